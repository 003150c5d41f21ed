"""The teardown custom resource against a fake SageMaker that behaves like AWS:
paginated listings, apps that linger as Deleting then Deleted, spaces that
cannot be deleted while an app runs in them and disappear after Deleting."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError

from studio_cleanup import cfn_response, index, studio_apps, waiting
from tests.studio.fakes import Clock

DOMAIN = "d-abc123"


def client_error(code: str, message: str) -> ClientError:
    return ClientError({"Error": {"Code": code, "Message": message}}, "op")


class FakeSageMaker:
    """Just enough of the SageMaker control plane, with AWS's state machine."""

    def __init__(self, apps=(), spaces=(), page_size=2, settle_after=2, domain_exists=True):
        self.apps = [dict(a, Status=a.get("Status", "InService"), DomainId=DOMAIN) for a in apps]
        self.spaces = [dict(s, Status=s.get("Status", "InService"), DomainId=DOMAIN) for s in spaces]
        self.page_size = page_size
        self.settle_after = settle_after  # listings until a Deleting resource settles
        self.domain_exists = domain_exists
        self.countdown: dict[int, int] = {}
        self.calls: list[tuple] = []

    def _tick(self):
        for obj_id, left in list(self.countdown.items()):
            if left <= 1:
                del self.countdown[obj_id]
                for app in self.apps:
                    if id(app) == obj_id:
                        app["Status"] = "Deleted"  # AWS keeps listing deleted apps for a while
                self.spaces = [s for s in self.spaces if id(s) != obj_id]
            else:
                self.countdown[obj_id] = left - 1

    def _page(self, items, key, NextToken=None, MaxResults=100):
        start = int(NextToken or 0)
        end = start + min(self.page_size, MaxResults)
        page = {key: [dict(i) for i in items[start:end]]}
        if end < len(items):
            page["NextToken"] = str(end)
        return page

    def list_apps(self, DomainIdEquals, **kw):
        if not self.domain_exists:
            raise client_error("ResourceNotFound", f"Domain {DomainIdEquals} not found")
        if not kw.get("NextToken"):
            self._tick()
        self.calls.append(("list_apps", kw.get("NextToken")))
        return self._page(self.apps, "Apps", **kw)

    def list_spaces(self, DomainIdEquals, **kw):
        if not kw.get("NextToken"):
            self._tick()
        self.calls.append(("list_spaces", kw.get("NextToken")))
        return self._page(self.spaces, "Spaces", **kw)

    def delete_app(self, DomainId, AppType, AppName, UserProfileName=None, SpaceName=None):
        self.calls.append(("delete_app", SpaceName or UserProfileName, AppType, AppName))
        for app in self.apps:
            owner = app.get("SpaceName") or app.get("UserProfileName")
            if (owner, app["AppType"], app["AppName"]) == (SpaceName or UserProfileName, AppType, AppName):
                if app["Status"] in ("Deleting", "Deleted"):
                    raise client_error("ResourceInUse", "App is already being deleted")
                app["Status"] = "Deleting"
                self.countdown[id(app)] = self.settle_after
                return {}
        raise client_error("ResourceNotFound", "App does not exist")

    def delete_space(self, DomainId, SpaceName):
        self.calls.append(("delete_space", SpaceName))
        if any(a.get("SpaceName") == SpaceName and a["Status"] != "Deleted" for a in self.apps):
            raise client_error("ResourceInUse", f"Space {SpaceName} has running apps")
        for space in self.spaces:
            if space["SpaceName"] == SpaceName:
                space["Status"] = "Deleting"
                self.countdown[id(space)] = self.settle_after
                return {}
        raise client_error("ResourceNotFound", "Space does not exist")


def apps_in_spaces(n: int) -> list[dict]:
    return [{"SpaceName": f"space-{i}", "AppType": "JupyterLab", "AppName": "default"} for i in range(n)]


def spaces(n: int) -> list[dict]:
    return [{"SpaceName": f"space-{i}"} for i in range(n)]


def test_deletes_every_app_across_pages_then_every_space_and_waits():
    # Given 5 running apps (3 pages), one profile-owned app, and 5 spaces
    apps = apps_in_spaces(5) + [{"UserProfileName": "ana", "AppType": "JupyterServer", "AppName": "default"}]
    fake, clock = FakeSageMaker(apps=apps, spaces=spaces(5)), Clock()
    # When the cleanup runs
    counts = studio_apps.delete_apps_and_spaces(fake, DOMAIN, deadline=600, clock=clock, sleep=clock.sleep)
    # Then everything is gone, apps strictly before spaces
    assert counts == {"apps": 6, "spaces": 5}
    assert all(a["Status"] == "Deleted" for a in fake.apps) and fake.spaces == []
    deletes = [c[0] for c in fake.calls if c[0].startswith("delete")]
    assert deletes == ["delete_app"] * 6 + ["delete_space"] * 5
    assert ("delete_app", "ana", "JupyterServer", "default") in fake.calls
    assert ("list_apps", "2") in fake.calls and ("list_apps", "4") in fake.calls  # paginated
    assert clock.sleeps and all(s == waiting.POLL_SECONDS for s in clock.sleeps)


def test_apps_already_deleting_or_deleted_are_waited_for_not_deleted_again():
    apps = [
        {"SpaceName": "s0", "AppType": "JupyterLab", "AppName": "default", "Status": "Deleting"},
        {"SpaceName": "s1", "AppType": "JupyterLab", "AppName": "default", "Status": "Deleted"},
    ]
    fake, clock = FakeSageMaker(apps=apps, spaces=[{"SpaceName": "s0"}]), Clock()
    fake.countdown[id(fake.apps[0])] = 2
    studio_apps.delete_apps_and_spaces(fake, DOMAIN, deadline=600, clock=clock, sleep=clock.sleep)
    assert not [c for c in fake.calls if c[0] == "delete_app"]
    assert fake.spaces == []


def test_a_space_already_deleting_is_not_deleted_again():
    fake, clock = FakeSageMaker(spaces=[{"SpaceName": "s0", "Status": "Deleting"}]), Clock()
    fake.countdown[id(fake.spaces[0])] = 1
    studio_apps.delete_apps_and_spaces(fake, DOMAIN, deadline=600, clock=clock, sleep=clock.sleep)
    assert [c for c in fake.calls if c[0] == "delete_space"] == []


def test_empty_domain_needs_no_wait():
    fake, clock = FakeSageMaker(), Clock()
    assert studio_apps.delete_apps_and_spaces(fake, DOMAIN, deadline=600, clock=clock, sleep=clock.sleep) == {
        "apps": 0,
        "spaces": 0,
    }
    assert clock.sleeps == []


def test_a_domain_that_is_already_gone_is_a_success():
    fake, clock = FakeSageMaker(domain_exists=False), Clock()
    assert studio_apps.delete_apps_and_spaces(fake, DOMAIN, deadline=600, clock=clock, sleep=clock.sleep) == {
        "apps": 0,
        "spaces": 0,
    }


def test_apps_that_never_finish_deleting_time_out_with_their_names():
    fake, clock = FakeSageMaker(apps=apps_in_spaces(1), settle_after=10_000), Clock()
    with pytest.raises(waiting.CleanupTimeout, match=r"1 apps still deleting: \['space-0/JupyterLab/default'\]"):
        studio_apps.delete_apps_and_spaces(fake, DOMAIN, deadline=60, clock=clock, sleep=clock.sleep)


def test_unexpected_api_errors_propagate():
    class Denied(FakeSageMaker):
        def delete_app(self, **kw):
            raise client_error("AccessDeniedException", "not allowed")

    with pytest.raises(ClientError, match="AccessDenied"):
        studio_apps.delete_apps_and_spaces(Denied(apps=apps_in_spaces(1)), DOMAIN, deadline=60, clock=Clock(), sleep=lambda s: None)


def event(request_type: str) -> dict:
    return {
        "RequestType": request_type,
        "ResponseURL": "https://example.invalid/response",
        "StackId": "arn:aws:cloudformation:us-east-1:123456789012:stack/s/1",
        "RequestId": "r-1",
        "LogicalResourceId": "StudioCleanup",
        "ResourceProperties": {"ServiceToken": "arn", "DomainId": DOMAIN},
        **({"PhysicalResourceId": f"studio-cleanup-{DOMAIN}"} if request_type != "Create" else {}),
    }


@pytest.mark.parametrize("request_type", ["Create", "Update"])
def test_create_and_update_touch_nothing_and_succeed(request_type):
    fake, responses = FakeSageMaker(apps=apps_in_spaces(2), spaces=spaces(2)), []
    index.handle(event(request_type), 900, fake, respond=lambda *a: responses.append(a))
    assert fake.calls == []
    assert [(r[1], r[3]) for r in responses] == [("SUCCESS", f"studio-cleanup-{DOMAIN}")]


def test_delete_cleans_up_then_reports_success():
    fake, clock, responses = FakeSageMaker(apps=apps_in_spaces(3), spaces=spaces(3)), Clock(), []
    index.handle(event("Delete"), 900, fake, respond=lambda *a: responses.append(a), clock=clock, sleep=clock.sleep)
    assert fake.spaces == [] and [r[1] for r in responses] == ["SUCCESS"]


def test_delete_reports_failure_to_cloudformation_instead_of_hanging():
    fake, clock, responses = FakeSageMaker(apps=apps_in_spaces(1), settle_after=10_000), Clock(), []
    index.handle(event("Delete"), 120, fake, respond=lambda *a: responses.append(a), clock=clock, sleep=clock.sleep)
    [(_, status, reason, _)] = responses
    assert status == "FAILED" and reason.startswith("CleanupTimeout: 1 apps still deleting")
    # the deadline leaves the safety margin to report before the Lambda timeout
    assert clock.now <= 120 - index.SAFETY_MARGIN_SECONDS + waiting.POLL_SECONDS


def test_send_response_puts_the_cloudformation_body(monkeypatch):
    sent = {}

    class Response:
        def __enter__(self):
            return self

        def __exit__(self, *a):
            return False

        def read(self):
            return b""

    def urlopen(request, timeout):
        sent.update(url=request.full_url, method=request.get_method(), body=request.data, timeout=timeout)
        return Response()

    monkeypatch.setattr(cfn_response.urllib.request, "urlopen", urlopen)
    cfn_response.send_response(event("Delete"), "SUCCESS", "OK", "pid")
    import json

    assert (sent["url"], sent["method"]) == ("https://example.invalid/response", "PUT")
    assert json.loads(sent["body"]) == {
        "Status": "SUCCESS",
        "Reason": "OK",
        "PhysicalResourceId": "pid",
        "StackId": "arn:aws:cloudformation:us-east-1:123456789012:stack/s/1",
        "RequestId": "r-1",
        "LogicalResourceId": "StudioCleanup",
    }
