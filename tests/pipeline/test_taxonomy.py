import pytest

from siteguard.pipeline.taxonomy import TaxonomyError, default_taxonomy, load_taxonomy


def test_core_classes_have_stable_ids():
    tax = default_taxonomy()
    assert tax.names[:4] == ("person", "hardhat", "head", "vest")
    assert tax.id_of("head") == 2 and tax.name_of(1) == "hardhat"
    assert {"scaffold", "guardrail", "opening"} <= set(tax.names)


def test_unknown_class_is_a_clear_error():
    with pytest.raises(TaxonomyError, match="not in the SiteGuard taxonomy"):
        default_taxonomy().id_of("helmet")


def test_malformed_taxonomy_files_are_refused(tmp_path):
    bad = tmp_path / "t.yaml"
    bad.write_text("classes:\n  - {id: 1, name: a}\n")
    with pytest.raises(TaxonomyError, match="0..n-1"):
        load_taxonomy(bad)
    bad.write_text("classes:\n  - {id: 0, name: a}\n  - {id: 1, name: a}\n")
    with pytest.raises(TaxonomyError, match="duplicate"):
        load_taxonomy(bad)
