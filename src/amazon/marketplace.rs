//! Amazon's marketplaces now live in [`crate::model::marketplace`]; this
//! path stays while the modules that import it move over.
pub use crate::model::marketplace::*;
