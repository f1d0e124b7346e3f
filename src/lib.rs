//! flywheel
