//! Unique lookup names. Every lookup resolves a name never asked before (so no cache anywhere
//! hides a query) whose first label carries the lookup id, so the server log joins to it.
//!
//! Form: `lk-<cell>-<nonce>-<seq>.<domain>`, warm-up lookups `lk-<cell>-<nonce>-w<seq>.<domain>`.

pub const LOOKUP_PREFIX: &str = "lk-";

/// A per-process nonce so that a rerun of a cell against the same server never repeats a name.
pub fn process_nonce() -> String {
    format!("{:04x}", rand::random::<u16>())
}

pub fn lookup_label(cell: &str, nonce: &str, seq: u64, warmup: bool) -> String {
    let w = if warmup { "w" } else { "" };
    format!("{LOOKUP_PREFIX}{cell}-{nonce}-{w}{seq}")
}

pub fn is_warmup(label: &str) -> bool {
    label.rsplit('-').next().is_some_and(|s| s.starts_with('w'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_are_valid_dns_labels_and_mark_warmups() {
        let l = lookup_label("c12", "ab09", 41, false);
        assert_eq!(l, "lk-c12-ab09-41");
        assert!(l.len() <= 63 && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-'));
        assert!(!is_warmup(&l));
        assert!(is_warmup(&lookup_label("c12", "ab09", 3, true)));
    }
}
