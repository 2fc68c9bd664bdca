//! Where cluster state comes from (a snapshot now, the API server later) and the small index of
//! objects that findings and actions refer to afterwards (owners, claims, storage classes).

pub mod index;
pub mod live;
pub mod owners;
pub mod prometheus;
pub mod reread;
pub mod snapshot;
pub mod stream;

pub use index::Index;
