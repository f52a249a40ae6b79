"""The options table (hcl.evolve.options.OPTIONS) is the one declaration of every search option: the config's
fields, the CLI's flags, the TOML keys, the estimator's parameters and the single-value checks all come from it."""

from __future__ import annotations

import dataclasses

import pytest
from click.testing import CliRunner

from hcl.cli import main
from hcl.errors import ConfigError
from hcl.evolve.config import EvolveConfig, load_toml
from hcl.evolve.options import BY_NAME, CONFIG_OPTIONS, OPTIONS, TABLE_OPTIONS, check_value


def test_the_config_has_a_field_for_each_option_and_no_other():
    fields = {f.name: f for f in dataclasses.fields(EvolveConfig)}
    assert set(fields) == {o.name for o in CONFIG_OPTIONS} | {"task_options"}
    config = EvolveConfig()
    for option in CONFIG_OPTIONS:
        assert getattr(config, option.name) == option.default, option.name


def test_every_flag_of_hcl_evolve_comes_from_the_table():
    command = main.commands["evolve"]
    flags = {opt for p in command.params for opt in p.opts}
    from_table = {o.cli_flag for o in OPTIONS if o.cli_flag}
    assert from_table <= flags
    assert flags - from_table == {"--config", "--resume", "--overwrite", "--quiet"}
    help_text = CliRunner().invoke(main, ["evolve", "--help"]).output
    assert "Default: output-exact." in help_text           # the default the table declares, written by the CLI


# One value outside each declared range or choice list, the error naming the option: a new row is checked as soon
# as it declares its limits.
BAD = [(o, o.low - 1 if not o.low_open else o.low) for o in OPTIONS if o.low is not None] + \
      [(o, o.high + 1) for o in OPTIONS if o.high is not None] + \
      [(o, "nosuch") for o in OPTIONS if o.choices]


@pytest.mark.parametrize("option, value", BAD, ids=[f"{o.name}={v}" for o, v in BAD])
def test_a_value_outside_the_declared_range_is_a_one_line_error_naming_the_option(option, value):
    with pytest.raises(ConfigError, match=f"^{option.label}: ") as e:
        check_value(option, value)
    assert "\n" not in str(e.value)
    if option.table:
        return
    with pytest.raises(ConfigError, match=f"^{option.label}: "):
        EvolveConfig(**{option.name: value}).validate()


def test_a_value_inside_the_range_passes():
    for option in OPTIONS:
        check_value(option, option.default)
    check_value(BY_NAME["k"], 2)
    check_value(BY_NAME["time_limit"], 0.5)
    with pytest.raises(ConfigError, match="--time-limit: must be > 0, got 0"):
        check_value(BY_NAME["time_limit"], 0)


def test_toml_accepts_the_table_options_at_the_top_level(tmp_path):
    toml = tmp_path / "run.toml"
    toml.write_text('[evolve]\ntask = "file"\nlabel = "kind"\ntop-categories = 5\n')
    config = EvolveConfig.from_dict(load_toml(toml))
    assert config.task_options == {"label": "kind", "top_categories": 5}
    toml.write_text('[evolve]\ntop_categories = "five"\n')
    r = CliRunner().invoke(main, ["evolve", "--config", str(toml)])
    assert r.exit_code == 2 and "top_categories = 'five': expected an integer" in r.output, r.output


def test_resume_accepts_exactly_the_resumable_options(tmp_path):
    resumable = [o for o in OPTIONS if o.resumable]
    assert {o.name for o in resumable} == {"generations", "time_limit", "executor"}
    for option in OPTIONS:
        if option.resumable or not option.cli_flag:
            continue
        value = [] if option.type is bool else [option.choices[0] if option.choices else "1"]
        r = CliRunner().invoke(main, ["evolve", "--resume", str(tmp_path), option.cli_flag, *value])
        assert r.exit_code == 2 and f"{option.cli_flag} cannot change" in r.output, (option.name, r.output)


def test_table_options_reach_the_file_task():
    assert {o.name for o in TABLE_OPTIONS} >= {"label", "features", "input_bits", "split_column"}
    from hcl.evolve.options import gather
    d = gather({"label": "kind", "k": 4, "seed": None})
    assert d == {"k": 4, "task_options": {"label": "kind"}}
