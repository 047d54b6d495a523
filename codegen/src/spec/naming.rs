//! How the generator names things: the one rule that turns an
//! `operationId`, a schema name or a parameter name into a Rust identifier.
//! The checks (two names that would collide), the lowering (placeholder
//! parameter names), the glue (finding a generated method or type again) and
//! the refresh's compile check (mapping rustc's lines back to the spec) all
//! predict the generator's names with it.

/// The generator's identifier for `input` (progenitor and typify both apply
/// this rule): apostrophes dropped, other non-identifier characters turned
/// into word breaks, then snake or Pascal case, then made an identifier.
pub fn sanitize(input: &str, pascal: bool) -> String {
    use heck::{ToPascalCase, ToSnakeCase};
    let cleaned = input
        .replace('\'', "")
        .replace(|c: char| !(c.is_alphanumeric() || c == '_'), "-");
    let convert = |s: &str| {
        if pascal {
            s.to_pascal_case()
        } else {
            s.to_snake_case()
        }
    };
    let mut out = convert(&cleaned);
    match out.chars().next() {
        None => out = convert("x"),
        Some(c) if c.is_alphabetic() || c == '_' => {}
        Some(_) => out = format!("{}{out}", if pascal { "X" } else { "_" }),
    }
    if syn::parse_str::<syn::Ident>(&out).is_err() {
        out.push('_');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::sanitize;

    #[test]
    fn names_as_the_generator_does() {
        assert_eq!(sanitize("getClients", false), "get_clients");
        assert_eq!(sanitize("Foo-Bar", true), "FooBar");
        assert_eq!(sanitize("don't", false), "dont");
        assert_eq!(sanitize("2fa", false), "_2fa");
        assert_eq!(sanitize("2fa", true), "X2fa");
        assert_eq!(sanitize("", false), "x");
        assert_eq!(sanitize("type", false), "type_");
    }
}
