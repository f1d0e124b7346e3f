//! flywheel-sim
