"""`flask quotas compute` (DESIGN §8): CSV out on stdout; bad input → one line on stderr, exit 2."""

import pytest

from portal.programmes.cli import quotas_cli


@pytest.fixture()
def run(app, tmp_path):
    runner = app.test_cli_runner()

    def _run(args, csv_text="municipality;pupils\nAizkraukles novads;2100\n0044000;3900\nRīga;52000\n"):
        path = tmp_path / "counts.csv"
        path.write_text(csv_text, encoding="utf-8")
        return runner.invoke(quotas_cli, ["compute", *args, "--counts", str(path)])

    return _run


def test_projects(run):
    result = run(["--projects", "10"])
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == [
        "municipality,pupils,quota,amount",
        "0020000,2100,1,4600.00",
        "0044000,3900,2,9200.00",
        "0001000,52000,7,32200.00",
    ]


def test_budget_and_amount(run):
    result = run(["--budget", "46000", "--amount", "4600"])
    assert result.exit_code == 0
    assert result.stdout.splitlines()[-1] == "0001000,52000,7,32200.00"


@pytest.mark.parametrize(
    "args, csv_text, fragment",
    [
        (["--projects", "2"], None, "fewer projects"),
        (["--projects", "x"], None, "whole number"),
        (["--projects", "5", "--budget", "1"], None, "either"),
        ([], None, "either"),
        (["--budget", "abc"], None, "number"),
        (["--projects", "5"], "Nekur;3\n", "Unknown municipality"),
        (["--projects", "5"], "", "empty"),
    ],
)
def test_bad_input_exit_2_one_line(run, args, csv_text, fragment):
    result = run(args, csv_text) if csv_text is not None else run(args)
    assert result.exit_code == 2
    assert result.stdout == ""
    assert len(result.stderr.strip().splitlines()) == 1
    assert fragment in result.stderr
    assert "Traceback" not in result.stderr


def test_programmes_seed_is_idempotent(app, db):
    from portal.programmes.cli import programmes_cli

    runner = app.test_cli_runner()
    first = runner.invoke(programmes_cli, ["seed"])
    second = runner.invoke(programmes_cli, ["seed"])
    assert first.exit_code == second.exit_code == 0
    assert first.output == second.output
    assert "pumpurs-jip" in first.output
