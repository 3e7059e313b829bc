"""The bulletin as a filed document: 文号 numbering, issuing authority and issue date,
from the API settings (api.yaml and the environment); an unconfigured jurisdiction gets
no invented authority."""

from datetime import date

import pytest

from siteguard.api.app import create_app
from siteguard.api.bulletin.numbering import bulletin_document, document_number, issue_date_of
from siteguard.api.settings import ApiSettings, BulletinSettings, SettingsError
from tests.api.bulletin.two_months import AUTHORITY, OTHER_J, J, settings_for
from tests.support.api import api_client


def test_numbers_follow_the_issue_date():
    assert issue_date_of("2026-10", 5) == date(2026, 11, 5)
    assert issue_date_of("2026-12", 5) == date(2027, 1, 5)  # the December one: next year
    assert document_number("包建安", date(2026, 11, 5)) == "包建安〔2026〕11号"
    assert document_number("包建安", date(2027, 1, 5)) == "包建安〔2027〕1号"
    assert document_number("包建安", date(2026, 11, 5), offset=20) == "包建安〔2026〕31号"
    cfg = BulletinSettings.model_validate(
        {"issue_day": 8, "jurisdictions": {J: {"authority": AUTHORITY, "number_prefix": "包建安"}}}
    )
    assert bulletin_document(J, "2026-10", cfg) == {
        "number": "包建安〔2026〕11号",
        "authority": AUTHORITY,
        "issue_date": "2026-11-08",
        "configured": True,
    }
    # the same month always gets the same number; another month another
    assert bulletin_document(J, "2026-10", cfg) == bulletin_document(J, "2026-10", cfg)
    assert bulletin_document(J, "2026-09", cfg)["number"] == "包建安〔2026〕10号"
    assert bulletin_document(OTHER_J, "2026-10", cfg) == {
        "number": None,
        "authority": None,
        "issue_date": "2026-11-08",
        "configured": False,
    }


def test_settings_from_yaml_and_environment(tmp_path):
    yaml = tmp_path / "api.yaml"
    yaml.write_text(
        "bulletin:\n  issue_day: 3\n  jurisdictions:\n"
        f"    {J}: {{authority: {AUTHORITY}, number_prefix: 包建安, sequence_offset: 2}}\n",
        "utf-8",
    )
    s = ApiSettings.load(yaml, env={})
    assert s.bulletin.issue_day == 3
    issuer = s.bulletin.issuer_of(J)
    assert issuer is not None and (issuer.number_prefix, issuer.sequence_offset) == ("包建安", 2)
    assert s.bulletin.issuer_of(OTHER_J) is None
    env = {
        "SITEGUARD_BULLETIN_ISSUE_DAY": "10",
        "SITEGUARD_BULLETIN_JURISDICTIONS": (
            '{"合肥市蜀山区": {"authority": "合肥市蜀山区住房和城乡建设局", '
            '"number_prefix": "蜀建"}}'
        ),
    }
    s = ApiSettings.load(yaml, env=env)  # the environment replaces the file's mapping
    assert s.bulletin.issue_day == 10 and s.bulletin.issuer_of(J) is None
    assert bulletin_document(OTHER_J, "2026-10", s.bulletin)["number"] == "蜀建〔2026〕11号"
    assert ApiSettings().bulletin.jurisdictions == {} and ApiSettings().bulletin.issue_day == 5
    with pytest.raises(SettingsError, match=r"bulletin\.issue_day"):
        ApiSettings.load(None, env={"SITEGUARD_BULLETIN_ISSUE_DAY": "31"})
    with pytest.raises(SettingsError, match="JSON|json"):
        ApiSettings.load(None, env={"SITEGUARD_BULLETIN_JURISDICTIONS": "{not json"})
    bad = tmp_path / "bad.yaml"
    bad.write_text(f"bulletin:\n  jurisdictions:\n    {J}: {{authority: 某局, prefix: 包}}\n")
    with pytest.raises(SettingsError, match="prefix"):  # unknown key, and number_prefix missing
        ApiSettings.load(bad, env={})


def test_the_routes_carry_the_number_or_say_it_is_not_configured(tmp_path):
    app = create_app(settings_for(f"sqlite:///{tmp_path}/n.db", tmp_path))
    mine = api_client(app, "regulator", jurisdiction=J)
    b = mine.get("/api/v1/regulator/bulletin", params={"month": "2026-10"}).json()
    assert b["document"] == {
        "number": "包建安〔2026〕11号",
        "authority": AUTHORITY,
        "issue_date": "2026-11-05",
        "configured": True,
    }
    page = mine.get("/regulator/bulletin.html", params={"month": "2026-10"}).text
    assert '<p class="docno" id="b-number">包建安〔2026〕11号</p>' in page
    assert f'<p class="authority" id="b-authority">{AUTHORITY}</p>' in page
    assert "2026年11月5日" in page
    other = api_client(app, "regulator", jurisdiction=OTHER_J)
    doc = other.get("/api/v1/regulator/bulletin", params={"month": "2026-10"}).json()["document"]
    assert doc["number"] is None and doc["authority"] is None and not doc["configured"]
    page = other.get("/regulator/bulletin.html", params={"month": "2026-10"}).text
    assert (
        "（未配置发文机关）" in page and "（未配置文号）" in page and "住房和城乡建设局" not in page
    )
    en = other.get("/regulator/bulletin.html", params={"month": "2026-10", "lang": "en"}).text
    assert "(issuing authority not configured)" in en and "5 November 2026" in en
