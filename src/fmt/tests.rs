use super::format;

fn fmt(src: &str) -> String {
    match format(src) {
        Ok(s) => s,
        Err(e) => panic!("not formatted: {e:?}"),
    }
}

#[test]
fn comments_skip_strings() {
    let src = "service a { image = \"x#y\" # real\n}\n";
    let cs = super::comments::scan(src);
    assert_eq!(cs.len(), 1);
    assert_eq!(&src[cs[0].start..cs[0].end], "# real");
}

#[test]
fn aligns_keys_and_indents() {
    let src = "service web {\nimage=\"nginx\"\n   memory =   128MiB\n essential = true }";
    assert_eq!(
        fmt(src),
        "service web {\n  image     = \"nginx\"\n  memory    = 128 MiB\n  essential = true\n}\n"
    );
}

#[test]
fn one_blank_line_between_items() {
    let src = "service a { image = \"a\" }\n\n\n\nservice b { image = \"b\" }\nservice c { image = \"c\" }";
    let out = fmt(src);
    assert_eq!(out.matches("\n\n").count(), 2, "{out}");
    assert!(!out.contains("\n\n\n"), "{out}");
}

#[test]
fn keeps_comments_in_place() {
    let src = "# top\n\n# about a\nservice a { # header\n  # above image\n  image = \"a\" # trailing\n\n  # before close\n}\n# end\n";
    let out = fmt(src);
    assert_eq!(
        out,
        "# top\n\n# about a\nservice a { # header\n  # above image\n  image = \"a\" # trailing\n\n  # before close\n}\n# end\n"
    );
}

#[test]
fn comment_inside_header_moves_above() {
    let src = "service # odd\n web { image = \"a\" }\n";
    assert_eq!(fmt(src), "# odd\nservice web {\n  image = \"a\"\n}\n");
}

#[test]
fn long_list_breaks_and_short_list_joins() {
    let names: Vec<String> = (0..20).map(|i| format!("service_number_{i}")).collect();
    let src = format!("service a {{ links = [{}] }}\n", names.join(","));
    let out = fmt(&src);
    assert!(
        out.contains("  links = [\n    service_number_0,\n"),
        "{out}"
    );
    assert!(out.lines().all(|l| l.len() <= super::WIDTH), "{out}");
    let short = fmt("service a {\n links = [\n  b,\n  c,\n ]\n}\n");
    assert!(short.contains("  links = [b, c]\n"), "{short}");
}

#[test]
fn list_with_comment_stays_broken() {
    let src = "service a {\n  links = [\n    b, # first\n    c\n  ]\n}\n";
    assert_eq!(
        fmt(src),
        "service a {\n  links = [\n    b, # first\n    c,\n  ]\n}\n"
    );
}

#[test]
fn nested_and_firewall() {
    let src = "service a {\nenv {A=1\nLONGER=\"x\"}\n}\nfirewall{allow 80 from internet to a\nallow db,cache from a,b}";
    assert_eq!(
        fmt(src),
        "service a {\n  env {\n    A      = 1\n    LONGER = \"x\"\n  }\n}\n\nfirewall {\n  allow 80 from internet to a\n  allow db, cache from a, b\n}\n"
    );
}

#[test]
fn refuses_syntax_errors() {
    assert!(format("service a { image \"x\" }").is_err());
    assert!(format("service a {").is_err());
}

#[test]
fn empty_inputs() {
    assert_eq!(fmt(""), "");
    assert_eq!(fmt("# only a comment"), "# only a comment\n");
    assert_eq!(fmt("service a {}"), "service a {}\n");
}

#[test]
fn keeps_windows_line_ends() {
    let src = "# c\r\nservice a {\r\nimage = \"a\" # t\r\n}\r\n";
    assert_eq!(
        fmt(src),
        "# c\r\nservice a {\r\n  image = \"a\" # t\r\n}\r\n"
    );
    assert_eq!(fmt(&fmt(src)), fmt(src));
}
