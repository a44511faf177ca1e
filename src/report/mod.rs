//! Reports read only the saved result documents.

pub mod terminal;
