//! Alert state, acks and silences (DESIGN §5).
