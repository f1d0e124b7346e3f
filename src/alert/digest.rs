//! See the module table in `alert`.
