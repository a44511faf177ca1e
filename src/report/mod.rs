//! Reports read only the saved result documents.

pub mod csv;
pub mod explain;
pub mod export;
pub mod html;
pub mod markdown;
pub mod plot;
pub mod terminal;
