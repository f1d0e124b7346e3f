//! The config a simulated marketplace writes (`flywheel sim --write-config`)
//! is one flywheel accepts as is, and it follows the sim's clock.

mod common;

#[tokio::test]
async fn the_sims_config_is_valid_and_follows_its_clock() {
    let h = common::start(common::Opts::new("demo")).await;
    let seller = &h.sim.world.scenario().seller;
    let account = &h.cfg.accounts[0];
    assert_eq!(account.name, seller.account);
    assert_eq!(
        account.seller_id.as_deref(),
        Some(seller.seller_id.as_str())
    );
    assert_eq!(account.marketplaces()[0].id, seller.marketplace_id);
    let sp = account.sp_api.as_ref().unwrap();
    assert!(sp
        .endpoint
        .as_deref()
        .unwrap()
        .starts_with("http://127.0.0.1:"));
    assert_eq!(
        sp.credentials.as_ref().unwrap().client_id,
        seller.sp.client_id
    );
    assert!(
        h.cfg.costs_file.as_ref().is_some_and(|p| p.is_file()),
        "costs.csv written"
    );
    // The database mirrors the account and its marketplace.
    assert_eq!(h.int("SELECT COUNT(*) FROM accounts"), 1);
    assert_eq!(h.int("SELECT COUNT(*) FROM marketplaces"), 1);
    // flywheel's clock is the sim's: advancing the sim moves it.
    let before = h.now().await;
    h.advance("24h").await;
    let after = h.now().await;
    assert!(
        after - before >= chrono::Duration::hours(24),
        "{before} -> {after}"
    );
}
