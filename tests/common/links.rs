//! What every test of an email checks about its links.

/// Links only to Amazon's own hosts, only in `href` (a seller's URL in
/// their text is never linked); nothing loaded from outside.
pub fn assert_only_amazon_links(html: &str) {
    let lower = html.to_ascii_lowercase();
    assert!(!lower.contains("http://"), "plain http in HTML");
    assert_eq!(
        lower.matches("https://").count(),
        lower.matches("href=\"https://").count(),
        "a URL outside a link"
    );
    for (i, _) in lower.match_indices("href=\"") {
        let url = &lower[i + 6..];
        let host = url["https://".len()..]
            .split(['/', '"', '?'])
            .next()
            .unwrap();
        assert!(
            url.starts_with("https://")
                && (host.starts_with("www.amazon.")
                    || host.starts_with("sellercentral")
                    || host.starts_with("advertising.amazon.")),
            "link to {host}"
        );
    }
}
