"""The alarm centre's camera filter: one option per project's camera (camera ids are a
project's own), named by its registered name, with the project's name when the options
span several projects."""

from siteguard.api.console.alarm_routes import camera_labels
from siteguard.api.sites.names import PlaceNames

PLACES = PlaceNames(
    {"site-1": "滨湖花园", "site-2": "高铁南站"},
    {("site-1", "cam-1"): "塔吊 1 号", ("site-2", "cam-1"): "北门"},
)


def test_the_same_camera_id_on_two_projects_is_two_options_named_with_their_project():
    counts = {"site-1/cam-1": 2, "site-2/cam-1": 1, "": 3}
    assert camera_labels(counts, PLACES) == {
        "site-1/cam-1": "塔吊 1 号 · 滨湖花园",
        "site-2/cam-1": "北门 · 高铁南站",
    }


def test_options_of_one_project_are_the_camera_names_alone_or_the_id():
    counts = {"site-1/cam-1": 2, "site-1/cam-9": 1, "": 3}
    assert camera_labels(counts, PLACES) == {"site-1/cam-1": "塔吊 1 号", "site-1/cam-9": "cam-9"}


def test_changing_the_project_drops_a_camera_of_another_project():
    """The form keeps the camera chosen before the project was changed: that camera is
    not on the new project, so it is dropped instead of emptying the list."""
    from siteguard.api.console.alarm_routes import _filter

    args = dict(hazard_type="", level="", escalated="", read="", status="", since="", until="")
    assert _filter("site-2", camera="site-1/cam-1", **args).camera == ""
    assert _filter("site-1", camera="site-1/cam-1", **args).camera == "site-1/cam-1"
    assert _filter("", camera="site-1/cam-1", **args).camera == "site-1/cam-1"
    assert _filter("site-2", camera="cam-1", **args).camera == "cam-1"  # a bare id: kept
