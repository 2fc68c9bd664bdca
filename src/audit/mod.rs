//! The audit trail on the cluster itself: an Event on the target for every applied, skipped or
//! failed action, and an annotation on every target rounds changed.

pub mod annotation;
pub mod events;
