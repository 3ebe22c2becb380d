"""The farm model: formulas against hand-computed cases, and invariants that must hold."""

from __future__ import annotations

import math

import numpy as np
import pytest

from hashcore import farm, finance, halving, montecarlo, scenario
from hashcore.calibrate import NetworkEstimate
from hashcore.errors import InputError, ScenarioError

# A small scenario whose numbers are easy to check by hand: one month of 30 days (2026-04-01),
# a constant network, a constant price, no pool fee, no fees unless a test sets them.
BASE = """
[scenario]
name = "test farm"
start_date = 2026-04-01
start_height = 900000
months = 1
[power]
mw = 10.0
[fleet]
fill_model = "Antminer S21"
capex_usd_per_machine = 2800.0
[electricity]
price_usd_per_kwh = 0.05
[market]
btc_price_usd = 100000.0
[network]
hashrate_ehs = 1000.0
[montecarlo]
paths = 200
seed = 7
"""


def make(**overrides) -> scenario.Scenario:
    return scenario.loads(BASE, "<test>", {k.replace("__", "."): v for k, v in overrides.items()})


# ------------------------------------------------------------------ hand-computed formulas


def test_hashprice_matches_published_12_jan_2026():
    # Hashrate Index Roundup 2026-01-12: difficulty 148.26 T, fees ~17 BTC over ~1,008 blocks
    # (~0.017 BTC/block), BTC ~USD 91,132, published hashprice USD 39.53 per PH/s/day.
    difficulty, fees, price = 148.26e12, 0.017, 91_132.0
    network_phs = difficulty * 2**32 / 600 / 1e15  # by hand: H/s at 600 s per block, in PH/s
    by_hand = (3.125 + fees) * 144 * price / network_phs
    hs = farm.network_hashrate_from_difficulty(difficulty)
    assert hs / 1e15 == pytest.approx(network_phs, rel=1e-12)
    model = farm.hashprice_usd_per_ph_day(3.125 + fees, price, hs)
    assert model == pytest.approx(by_hand, rel=1e-12)
    # the published figure used the measured (7-day) hash rate, a little below the one
    # implied by the difficulty; the two agree within 3 %
    assert model == pytest.approx(39.53, rel=0.03)


def test_farm_hashprice_and_revenue_by_hand():
    s = make(**{"market__fees_btc_per_block": 0.017, "network__hashrate_ehs": 1061.0,
                "market__btc_price_usd": 91132.0, "power__mw": 0.0035})  # exactly 1 S21
    r = farm.run(farm.plan(s))
    mine = 200e12  # one Antminer S21, 200 TH/s
    others = 1061e18
    days = 30  # April
    reward = (3.125 + 0.017) * 144 * days
    share = mine / (others + mine)
    assert r.plan.fleet[0].count == 1
    assert r.monthly["share"][0] == pytest.approx(share, rel=1e-12)
    assert r.monthly["btc_mined"][0] == pytest.approx(share * reward, rel=1e-12)
    assert r.monthly["revenue_usd"][0] == pytest.approx(share * reward * 91132.0, rel=1e-12)
    kwh = 3500 * 24 * days / 1000
    assert r.monthly["energy_kwh"][0] == pytest.approx(kwh, rel=1e-12)
    assert r.monthly["energy_cost_usd"][0] == pytest.approx(kwh * 0.05, rel=1e-12)
    hp = (3.125 + 0.017) * 144 * 91132.0 / ((others + mine) / 1e15)
    assert r.monthly["hashprice_usd_per_ph_day"][0] == pytest.approx(hp, rel=1e-12)


@pytest.mark.parametrize("height, btc", [(0, 50.0), (209_999, 50.0), (210_000, 25.0),
                                         (839_999, 6.25), (840_000, 3.125),
                                         (1_049_999, 3.125), (1_050_000, 1.5625),
                                         (33 * 210_000 - 1, 1e-8), (33 * 210_000, 0.0),
                                         (64 * 210_000, 0.0)])
def test_subsidy_by_height(height, btc):
    assert halving.subsidy_btc(height) == btc


def test_subsidy_sum_across_a_halving_is_exact():
    # 10 blocks before 1,050,000 at 3.125 and 5 after at 1.5625, in satoshis
    assert halving.subsidy_sum_sat(1_049_990, 1_050_005) == 10 * 312_500_000 + 5 * 156_250_000
    sums = halving.subsidy_sums_btc(np.array([839_998, 840_000, 840_002]))
    assert sums.tolist() == [12.5, 6.25]
    with pytest.raises(InputError):
        halving.subsidy_btc(-1)
    assert halving.next_halving_height(840_000) == 1_050_000


def test_halving_inside_the_horizon_halves_the_reward():
    # start 1,000 blocks (about a week) before the 2028 halving
    s = make(**{"scenario__start_height": 1_049_000, "scenario__months": 3})
    r = farm.run(farm.plan(s))
    per_block = r.monthly["subsidy_btc_per_block"]
    blocks0 = 30 * 144
    assert per_block[0] == pytest.approx((1000 * 3.125 + (blocks0 - 1000) * 1.5625) / blocks0)
    assert per_block[1] == per_block[2] == 1.5625


def test_npv_irr_payback_against_hand_computed_flows():
    flows = np.array([-1000.0, 300.0, 400.0, 500.0])
    annual = 1.01**12 - 1  # exactly 1 % a month
    by_hand = -1000 + 300 / 1.01 + 400 / 1.01**2 + 500 / 1.01**3
    assert finance.npv(flows, annual) == pytest.approx(by_hand, rel=1e-12)
    # IRR: -100 now, +110 in a month -> 10 % a month
    assert finance.irr(np.array([-100.0, 110.0])) == pytest.approx(1.1**12 - 1, rel=1e-9)
    # -1000 now, +1210 in two months -> 10 % a month
    assert finance.irr(np.array([-1000.0, 0.0, 1210.0])) == pytest.approx(1.1**12 - 1,
                                                                           rel=1e-9)
    # NPV at the IRR is zero
    r = finance.irr(flows)
    assert finance.npv(flows, r) == pytest.approx(0.0, abs=1e-6)
    # payback: 300 + 400 = 700 after two months, the last 300 of 500 -> 2.6 months
    assert finance.payback_months(flows) == pytest.approx(2.6)
    assert math.isnan(finance.payback_months(np.array([-100.0, 10.0, 10.0])))
    assert math.isnan(finance.irr(np.array([-100.0, -10.0])))  # never positive: no IRR


def test_finance_vectorized_equals_one_at_a_time():
    rng = np.random.default_rng(3)
    flows = np.concatenate([np.full((50, 1), -1000.0), rng.uniform(-20, 90, (50, 36))], axis=1)
    many_irr = finance.irr(flows)
    many_pb = finance.payback_months(flows)
    many_npv = finance.npv(flows, 0.1)
    for i in range(50):
        one = finance.irr(flows[i])
        assert (math.isnan(one) and math.isnan(many_irr[i])) or one == pytest.approx(many_irr[i])
        pb = finance.payback_months(flows[i])
        assert (math.isnan(pb) and math.isnan(many_pb[i])) or pb == pytest.approx(many_pb[i])
        assert finance.npv(flows[i], 0.1) == pytest.approx(many_npv[i])


# ------------------------------------------------------------------ invariants


@pytest.mark.parametrize("switch_off", [False, True])
def test_profit_falls_as_electricity_price_rises(switch_off):
    profits = []
    for price in (0.0, 0.02, 0.04, 0.06, 0.08, 0.12):
        s = make(**{"electricity__price_usd_per_kwh": price, "scenario__months": 12,
                    "fleet__switch_off_when_unprofitable": switch_off})
        profits.append(farm.run(farm.plan(s)).totals["profit_usd"])
    diffs = np.diff(profits)
    assert np.all(diffs < 0) if not switch_off else np.all(diffs <= 0)
    assert diffs[0] < 0


def test_doubling_power_less_than_doubles_btc_when_share_is_large():
    # others: 10 EH/s; 500 MW of S21 is ~28.6 EH/s, so the farm is most of the network
    small = make(**{"network__hashrate_ehs": 10.0, "power__mw": 500.0})
    big = small.with_overrides({"power.mw": 1000.0})
    b1 = farm.run(farm.plan(small)).totals["btc_mined"]
    b2 = farm.run(farm.plan(big)).totals["btc_mined"]
    assert b1 < b2 < 1.5 * b1
    # and it does nearly double when the share is tiny
    one = [{"model": "Antminer S21", "count": 10}]
    two = [{"model": "Antminer S21", "count": 20}]
    t1 = farm.run(farm.plan(make(fleet__machines=one))).totals["btc_mined"]
    t2 = farm.run(farm.plan(make(fleet__machines=two, power__mw=1.0))).totals["btc_mined"]
    assert t2 == pytest.approx(2 * t1, rel=1e-4)


def test_share_is_mine_over_others_plus_mine():
    s = make(**{"network__hashrate_ehs": 10.0, "power__mw": 500.0})
    r = farm.run(farm.plan(s))
    mine = r.monthly["fleet_hashrate_ehs"][0]
    assert r.monthly["share"][0] == pytest.approx(mine / (10.0 + mine))
    assert r.monthly["share"][0] < 1


def test_zero_power_earns_nothing():
    for s in (make(**{"power__mw": 0.0}),
              make(**{"power__monthly_factor": [0.0] * 12,
                      "fleet__machines": [{"model": "Antminer S21", "count": 100}]})):
        r = farm.run(farm.plan(s))
        for key in ("btc_mined", "revenue_usd", "energy_cost_usd", "energy_kwh"):
            assert r.totals[key] == 0.0
        assert r.totals["profit_usd"] <= 0


def test_monthly_profile_limits_running_machines_in_merit_order():
    # 100 S21 (17.5 J/TH) and 100 S19 (34.2 J/TH); in a 3/4-power month all S21s run and
    # the S19s share what is left
    fleet = [{"model": "Antminer S19", "count": 100}, {"model": "Antminer S21", "count": 100}]
    s = make(**{"fleet__machines": fleet, "power__mw": (100 * 3500 + 100 * 3250) / 1e6,
                "power__monthly_factor": [1.0] * 3 + [0.75] + [1.0] * 8,
                "scenario__months": 2})  # April (factor 0.75), May (1.0)
    r = farm.run(farm.plan(s))
    april_w = (100 * 3500 + 100 * 3250) * 0.75
    expected_april = 100 * 200e12 + (april_w - 100 * 3500) / 3250 * 95e12
    assert r.monthly["fleet_hashrate_ehs"][0] * 1e18 == pytest.approx(expected_april)
    assert r.monthly["fleet_hashrate_ehs"][1] * 1e18 == pytest.approx(100 * 200e12 + 100 * 95e12)


def test_degradation_failure_uptime_and_curtailment_scale_hash_rate():
    base = farm.run(farm.plan(make(**{"scenario__months": 24})))
    worn = farm.run(farm.plan(make(**{
        "scenario__months": 24, "fleet__degradation_per_year": 0.1,
        "fleet__failure_rate_per_year": 0.2, "power__uptime": 0.9,
        "power__curtailment_hours_per_month": 72.0})))
    ratio = worn.monthly["fleet_hashrate_ehs"] / base.monthly["fleet_hashrate_ehs"]
    t = (np.arange(24) + 0.5) / 12
    hours = np.array([d * 24 for d in worn.plan.days])
    expected = 0.9 ** t * 0.8 ** t * 0.9 * (1 - 72 / hours)
    assert np.allclose(ratio, expected, rtol=1e-12)


def test_local_currency_price_converts():
    s = make(**{"electricity__price_local_per_kwh": 22.5, "electricity__local_per_usd": 281.22,
                "electricity__currency": "PKR"})
    assert s.price_usd_per_kwh == pytest.approx(22.5 / 281.22)
    assert farm.plan(s).price_usd_per_kwh == pytest.approx(0.0800085, rel=1e-5)


def test_breakeven_electricity_price_zeroes_the_month():
    r = farm.run(farm.plan(make()))
    be = r.monthly["breakeven_electricity_usd_per_kwh"][0]
    at_be = farm.run(farm.plan(make(**{"electricity__price_usd_per_kwh": float(be)})))
    assert at_be.monthly["profit_usd"][0] == pytest.approx(0.0, abs=1e-6)


def test_network_from_calibration_is_grown_to_the_start_date():
    class Cal:  # only what farm reads of a Calibration
        network = NetworkEstimate(tip_height=878976, tip_time_utc="2025-04-01T00:00:00Z",
                                  hashrate_hs=800e18, hashrate_low_hs=760e18,
                                  hashrate_high_hs=840e18, confidence=0.95, difficulty=1.0)
        fleet: dict = {}

    s = make(**{"network__hashrate_source": "calibration", "network__growth_per_month": 0.02})
    p = farm.plan(s, Cal())
    gap = (365 / farm.DAYS_PER_MONTH_AVG)  # 2025-04-01 -> 2026-04-01
    assert p.network_start_hs == pytest.approx(800e18 * 1.02**gap)
    with pytest.raises(ScenarioError) as exc:
        farm.plan(s, None)
    assert exc.value.field == "network.hashrate_source"


# ------------------------------------------------------------------ Monte Carlo


def test_montecarlo_is_seeded_and_reproducible():
    s = scenario.load(None, {"scenario.months": 24})
    p = farm.plan(s)
    a = montecarlo.simulate(p, paths=300, seed=11)
    b = montecarlo.simulate(p, paths=300, seed=11)
    c = montecarlo.simulate(p, paths=300, seed=12)
    assert a.totals == b.totals
    for key in a.monthly:
        for q in ("p5", "p50", "p95"):
            assert np.array_equal(a.monthly[key][q], b.monthly[key][q])
    assert a.totals["npv_usd"] != c.totals["npv_usd"]
    # path i does not depend on how many paths are drawn
    p1, n1 = montecarlo.market_paths(p, 10, 5)
    p2, n2 = montecarlo.market_paths(p, 10_000, 5)
    assert np.array_equal(p1, p2[:10]) and np.array_equal(n1, n2[:10])


def test_montecarlo_percentiles_are_ordered():
    s = scenario.load(None, {"scenario.months": 36})
    mc = montecarlo.simulate(farm.plan(s), paths=2000, seed=1)
    for key, q in mc.monthly.items():
        assert np.all(q["p5"] <= q["p50"]) and np.all(q["p50"] <= q["p95"]), key
    for key, q in mc.totals.items():
        vals = [q[k] for k in ("p5", "p50", "p95") if q[k] is not None]
        assert vals == sorted(vals), key
    assert 0.0 <= mc.probability_npv_positive <= 1.0


def test_montecarlo_paths_match_their_lognormal_percentiles():
    s = scenario.load(None, {"scenario.months": 24, "network.price_correlation": 0.0})
    p = farm.plan(s)
    price, others = montecarlo.market_paths(p, 40_000, 3)
    exact = montecarlo.lognormal_percentiles(p)
    mc = montecarlo.simulate(p, paths=200, seed=3)
    exact["share"] = mc.monthly["share"]
    share = p.hashrate_hs / (others + p.hashrate_hs)
    for arr, key in ((price, "btc_price_usd"), ((others + p.hashrate_hs) / 1e18,
                                                  "network_hashrate_ehs"), (share, "share")):
        sample = np.percentile(arr, [5, 50, 95], axis=0)
        for i, q in enumerate(("p5", "p50", "p95")):
            assert np.allclose(sample[i], exact[key][q], rtol=0.03), (key, q)
    # with no volatility the paths are the deterministic ones
    calm = scenario.load(None, {"market.price_volatility_per_year": 0.0,
                                "network.growth_volatility_per_month": 0.0})
    pc = farm.plan(calm)
    price, others = montecarlo.market_paths(pc, 3, 1)
    det_price, det_others = pc.deterministic_paths()
    assert np.allclose(price, det_price) and np.allclose(others, det_others)


def test_montecarlo_profit_percentiles_equal_numpy_on_the_same_paths():
    s = scenario.load(None, {"scenario.months": 12})
    p = farm.plan(s)
    mc = montecarlo.simulate(p, paths=1500, seed=4, keep_samples=True)
    price, others = montecarlo.market_paths(p, 1500, 4)
    profit = farm.evaluate(p, price, others)["profit_usd"]
    expected = np.percentile(profit, [5, 50, 95], axis=0)
    for i, q in enumerate(("p5", "p50", "p95")):
        assert np.allclose(mc.monthly["profit_usd"][q], expected[i], rtol=1e-9)
    npv = finance.npv(farm.cash_flows(p, profit), s.values["finance.discount_rate_per_year"])
    assert np.allclose(mc.samples["npv_usd"], npv, rtol=1e-9)


def test_tornado_moves_npv_the_right_way():
    s = scenario.load(None, {"scenario.months": 24})
    base, rows = montecarlo.tornado(s)
    by = {r.field: r for r in rows}
    assert by["market.btc_price_usd"].npv_high_usd > by["market.btc_price_usd"].npv_low_usd
    elec = by["electricity.price_local_per_kwh"]
    assert elec.npv_high_usd < elec.npv_low_usd
    assert by["fleet.capex_usd_per_machine"].npv_high_usd < base
    swings = [r.swing_usd for r in rows]
    assert swings == sorted(swings, reverse=True)


def test_calibration_deratings_scale_the_fleet():
    from hashcore.calibrate import Derating

    class Cal:
        network = None
        fleet = {"Antminer S21": Derating(model="Antminer S21", machines=10,
                                          hashrate_factor=0.9, power_factor=1.05,
                                          efficiency_factor=1.05 / 0.9)}

    s = make(**{"fleet__machines": [{"model": "Antminer S21", "count": 10}]})
    plain, derated = farm.plan(s), farm.plan(s, Cal())
    assert derated.fleet[0].derated and not plain.fleet[0].derated
    assert derated.hashrate_hs[0] == pytest.approx(0.9 * plain.hashrate_hs[0])
    assert derated.energy_kwh[0] == pytest.approx(1.05 * plain.energy_kwh[0])
