//! Checks for `rounds doctor`: the secret files exist and are valid, and every channel answers.
