pub mod hickory;
pub mod names;
pub mod system;
