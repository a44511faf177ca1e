//! Reports read only the saved result documents.

pub mod explain;
pub mod terminal;
