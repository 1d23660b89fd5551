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

/// Longest accepted username, in characters.
pub const MAX_USERNAME_CHARS: usize = 150;

/// Checks a username: 1 to 150 characters, each an ASCII letter, digit or one of `@ . + - _`.
/// Returns the reason when it is not valid.
pub fn username_problem(username: &str) -> Option<String> {
    if username.is_empty() {
        return Some("This field may not be blank. Choose a username.".to_owned());
    }
    if username.chars().count() > MAX_USERNAME_CHARS {
        return Some(format!(
            "Ensure this field has no more than {MAX_USERNAME_CHARS} characters."
        ));
    }
    if !username
        .chars()
        .all(|character| character.is_ascii_alphanumeric() || "@.+-_".contains(character))
    {
        return Some(format!(
            "{username:?} is not a valid username. Use ASCII letters, digits and @ . + - _ only."
        ));
    }
    None
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
    fn username_rules() {
        assert_eq!(username_problem("ada.lovelace+1@x_y-z"), None);
        assert!(username_problem("").is_some());
        assert!(username_problem("a b").unwrap().contains("\"a b\""));
        assert!(username_problem("Ünï").is_some());
        assert!(username_problem(&"a".repeat(151)).is_some());
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
