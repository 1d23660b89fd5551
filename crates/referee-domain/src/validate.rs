//! Field checks shared by every request that carries the same kind of value.

/// Checks an ORCID iD of the form `0000-0002-1825-0097` (last character a digit or `X`).
pub fn is_orcid(value: &str) -> bool {
    let bytes = value.as_bytes();
    if bytes.len() != 19 {
        return false;
    }
    bytes.iter().enumerate().all(|(index, byte)| match index {
        4 | 9 | 14 => *byte == b'-',
        18 => byte.is_ascii_digit() || *byte == b'X',
        _ => byte.is_ascii_digit(),
    })
}

/// Checks the shape of an e-mail address: one `@` with a non-empty local part and a domain
/// that contains a dot, no spaces. Deliverability is not checked.
pub fn is_email(value: &str) -> bool {
    let Some((local, domain)) = value.split_once('@') else {
        return false;
    };
    !local.is_empty()
        && !domain.contains('@')
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !value.chars().any(char::is_whitespace)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn orcid_shapes() {
        assert!(is_orcid("0000-0002-1825-0097"));
        assert!(is_orcid("0000-0002-1694-233X"));
        assert!(!is_orcid("0000-0002-1825-009"));
        assert!(!is_orcid("0000_0002-1825-0097"));
        assert!(!is_orcid("0000-0002-1825-009x"));
    }

    #[test]
    fn email_shapes() {
        assert!(is_email("ada@example.org"));
        assert!(!is_email("ada@example"));
        assert!(!is_email("ada example@example.org"));
        assert!(!is_email("@example.org"));
        assert!(!is_email("ada@@example.org"));
    }
}
