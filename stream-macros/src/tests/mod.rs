//! Expansion snapshots (insta + prettyplease), one per operator.

mod expansion;
