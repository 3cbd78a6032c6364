"""`make mutation`'s closing table (tools/mutation_summary.py): verdicts grouped by the file each
mutant is in, timeouts counted as killed, unreached and not-yet-run mutants apart from survivors."""

from __future__ import annotations

from tools.mutation_summary import module_of, report, tally

LISTED = """
    engine.risk.gate.xǁBudgetǁroom__mutmut_1: killed
    engine.risk.gate.xǁBudgetǁroom__mutmut_2: survived
    engine.risk.gate.x_crosses__mutmut_3: timeout
    contracts.payouts.x_stored__mutmut_1: no tests
    contracts.payouts.xǁPayoutsǁof__mutmut_2: not checked
    contracts.payouts.xǁPayoutsǁof__mutmut_3: killed
Listing 6 mutants
"""


def test_a_mutant_belongs_to_the_file_its_module_names() -> None:
    assert module_of("engine.risk.gate.xǁBudgetǁroom__mutmut_3") == "engine/risk/gate.py"
    assert module_of("contracts.domain.x_to_micros__mutmut_1") == "contracts/domain.py"


def test_the_table_counts_each_file_and_all_of_them() -> None:
    lines = report(tally(LISTED.splitlines())).splitlines()
    assert lines[1].split() == ["contracts/payouts.py", "3", "1", "0", "1", "1", "100.0%", "33.3%"]
    assert lines[2].split() == ["engine/risk/gate.py", "3", "2", "1", "0", "0", "66.7%", "66.7%"]
    assert lines[3].split() == ["all", "6", "3", "1", "1", "1", "75.0%", "50.0%"]
