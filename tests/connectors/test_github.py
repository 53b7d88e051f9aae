"""The built-in GitHub connector, called through the action runner against a local fake of GitHub's API."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest

from switchboard.connectors.action_answers import ActionFailed
from switchboard.connectors.action_requests import RequestAuth
from switchboard.connectors.actions import ActionRunner
from switchboard.connectors.definitions import ConnectorDefinition
from switchboard.connectors.registry import load_builtins
from switchboard.platform.core.errors import InvalidInput
from tests.support.connector_fixtures import loopback_apps
from tests.support.fake_github import FakeGitHub, Reply, json_reply


@pytest.fixture
def github() -> Iterator[FakeGitHub]:
    fake = FakeGitHub()
    fake.server.start()
    yield fake
    fake.server.stop()


@pytest.fixture
async def runner() -> AsyncIterator[ActionRunner]:
    runner = ActionRunner(timeout=2.0, trusted=loopback_apps)
    yield runner
    await runner.aclose()


@pytest.fixture(scope="module")
def definition() -> ConnectorDefinition:
    return load_builtins()["github"]


def as_user(github: FakeGitHub, token: str = "gho_octocat", *, api_path: str = "") -> RequestAuth:  # noqa: S107
    return RequestAuth(
        values={"web_url": github.url(), "api_url": github.url(api_path)},
        headers={"Authorization": f"Bearer {token}"},
    )


async def test_my_repositories_are_listed_with_the_useful_fields(
    github: FakeGitHub, runner: ActionRunner, definition: ConnectorDefinition
) -> None:
    result = await runner.run(definition, "list_my_repositories", {}, as_user(github))

    assert result.status == 200
    assert [repository["full_name"] for repository in result.output] == [
        "acme/api",
        "friend/shared-notes",
        "octocat/hello-world",
        "octocat/secret-plans",
    ]
    assert result.output[2] == {
        "full_name": "octocat/hello-world",
        "html_url": "https://github.com/octocat/hello-world",
        "private": False,
        "description": "Hello world of octocat",
        "default_branch": "main",
        "updated_at": "2026-11-01T10:00:00Z",
    }


async def test_requests_carry_the_headers_github_asks_for(
    github: FakeGitHub, runner: ActionRunner, definition: ConnectorDefinition
) -> None:
    await runner.run(definition, "list_my_repositories", {}, as_user(github))

    headers = github.requests[0].headers
    assert headers["accept"] == "application/vnd.github+json"
    assert headers["x-github-api-version"] == "2022-11-28"
    assert headers["authorization"] == "Bearer gho_octocat"
    assert headers["user-agent"] == "Switchboard"


async def test_repository_filters_and_paging_are_sent_as_query_parameters(
    github: FakeGitHub, runner: ActionRunner, definition: ConnectorDefinition
) -> None:
    inputs = {"visibility": "private", "affiliation": "owner,organization_member", "per_page": 1, "page": 2}

    result = await runner.run(definition, "list_my_repositories", inputs, as_user(github))

    assert [repository["full_name"] for repository in result.output] == ["octocat/secret-plans"]
    assert github.requests[0].query == {
        "visibility": ["private"],
        "affiliation": ["owner,organization_member"],
        "per_page": ["1"],
        "page": ["2"],
    }


async def test_a_repositorys_issues_are_listed_with_their_author_and_pull_request_link(
    github: FakeGitHub, runner: ActionRunner, definition: ConnectorDefinition
) -> None:
    inputs = {"owner": "octocat", "repo": "hello-world", "state": "all"}

    result = await runner.run(definition, "list_issues", inputs, as_user(github))

    assert github.requests[0].path == "/repos/octocat/hello-world/issues"
    assert [issue["number"] for issue in result.output] == [3, 2, 1]
    assert result.output[0] == {
        "number": 3,
        "title": "Add a logo",
        "state": "open",
        "html_url": "https://github.com/octocat/hello-world/issues/3",
        "user": {"login": "octocat"},
        "comments": 0,
        "created_at": "2026-11-01T10:00:00Z",
        "pull_request": {"html_url": "https://github.com/octocat/hello-world/pull/3"},
    }
    assert "pull_request" not in result.output[1]


async def test_issues_are_filtered_by_state_and_labels(
    github: FakeGitHub, runner: ActionRunner, definition: ConnectorDefinition
) -> None:
    inputs = {"owner": "octocat", "repo": "hello-world", "labels": "bug"}

    result = await runner.run(definition, "list_issues", inputs, as_user(github))

    assert [issue["title"] for issue in result.output] == ["Found a bug"]
    assert github.requests[0].query == {"labels": ["bug"]}


async def test_an_issue_is_created_with_only_the_fields_given(
    github: FakeGitHub, runner: ActionRunner, definition: ConnectorDefinition
) -> None:
    inputs = {"owner": "octocat", "repo": "hello-world", "title": "Broken link", "labels": ["bug"]}

    result = await runner.run(definition, "create_issue", inputs, as_user(github))

    assert result.status == 201
    assert result.output == {
        "number": 4,
        "title": "Broken link",
        "state": "open",
        "html_url": "https://github.com/octocat/hello-world/issues/4",
        "user": {"login": "octocat"},
    }
    request = github.requests[0]
    assert (request.method, request.path) == ("POST", "/repos/octocat/hello-world/issues")
    assert request.headers["content-type"] == "application/json"
    assert request.json() == {"title": "Broken link", "labels": ["bug"]}
    assert github.issues["octocat/hello-world"][-1]["title"] == "Broken link"


async def test_the_same_definition_serves_github_enterprise_server_under_api_v3(
    github: FakeGitHub, runner: ActionRunner, definition: ConnectorDefinition
) -> None:
    result = await runner.run(
        definition,
        "list_issues",
        {"owner": "octocat", "repo": "hello-world"},
        as_user(github, api_path="/api/v3"),
    )

    assert github.requests[0].path == "/api/v3/repos/octocat/hello-world/issues"
    assert [issue["number"] for issue in result.output] == [3, 1]


async def test_a_missing_title_is_refused_before_github_is_called(
    github: FakeGitHub, runner: ActionRunner, definition: ConnectorDefinition
) -> None:
    with pytest.raises(InvalidInput) as refused:
        await runner.run(
            definition, "create_issue", {"owner": "octocat", "repo": "hello-world"}, as_user(github)
        )

    assert refused.value.message == "title: 'title' is a required property"
    assert refused.value.field == "inputs.title"
    assert github.requests == []


@pytest.mark.parametrize("owner", ["..", "."])
async def test_a_dot_segment_as_owner_is_refused_before_github_is_called(
    owner: str, github: FakeGitHub, runner: ActionRunner, definition: ConnectorDefinition
) -> None:
    with pytest.raises(InvalidInput) as refused:
        await runner.run(definition, "list_issues", {"owner": owner, "repo": "issues"}, as_user(github))

    assert refused.value.message == f"owner: {owner!r} cannot be part of the path."
    assert github.requests == []


async def test_a_refused_token_is_an_auth_problem(
    github: FakeGitHub, runner: ActionRunner, definition: ConnectorDefinition
) -> None:
    with pytest.raises(ActionFailed) as failed:
        await runner.run(definition, "list_my_repositories", {}, as_user(github, "gho_revoked"))

    assert failed.value.message == (
        "GitHub answered 401: Bad credentials. The credentials were refused: reconnect the account or check "
        "the connection."
    )
    assert (failed.value.http_status, failed.value.auth_problem, failed.value.retryable) == (401, True, False)
    assert failed.value.app == "GitHub"


async def test_an_unknown_repository_is_githubs_not_found(
    github: FakeGitHub, runner: ActionRunner, definition: ConnectorDefinition
) -> None:
    with pytest.raises(ActionFailed) as failed:
        await runner.run(definition, "list_issues", {"owner": "octocat", "repo": "nothing"}, as_user(github))

    assert failed.value.message == "GitHub answered 404: Not Found."
    assert (failed.value.http_status, failed.value.auth_problem, failed.value.retryable) == (
        404,
        False,
        False,
    )


async def test_a_token_without_the_scope_gets_githubs_refusal(
    github: FakeGitHub, runner: ActionRunner, definition: ConnectorDefinition
) -> None:
    inputs = {"owner": "octocat", "repo": "hello-world", "title": "Hi"}

    with pytest.raises(ActionFailed) as failed:
        await runner.run(definition, "create_issue", inputs, as_user(github, "gho_no_scopes"))

    assert failed.value.message == "GitHub answered 403: Resource not accessible by integration."
    assert failed.value.auth_problem is False


async def test_githubs_validation_failure_names_the_field(
    github: FakeGitHub, runner: ActionRunner, definition: ConnectorDefinition
) -> None:
    inputs = {"owner": "octocat", "repo": "hello-world", "title": "Hi", "assignees": ["nobody"]}

    with pytest.raises(ActionFailed) as failed:
        await runner.run(definition, "create_issue", inputs, as_user(github))

    assert failed.value.message == "GitHub answered 422: Validation Failed (assignees: invalid)."
    assert failed.value.http_status == 422


async def test_a_server_error_on_a_read_may_be_retried(
    github: FakeGitHub, runner: ActionRunner, definition: ConnectorDefinition
) -> None:
    github.faults["/user/repos"] = json_reply(502, {"message": "Server Error"})

    with pytest.raises(ActionFailed) as failed:
        await runner.run(definition, "list_my_repositories", {}, as_user(github))

    assert failed.value.message == "GitHub answered 502: Server Error; try again later."
    assert (failed.value.http_status, failed.value.retryable) == (502, True)


async def test_a_server_error_on_creating_an_issue_is_not_retryable(
    github: FakeGitHub, runner: ActionRunner, definition: ConnectorDefinition
) -> None:
    github.faults["/repos/octocat/hello-world/issues"] = Reply(500)
    inputs = {"owner": "octocat", "repo": "hello-world", "title": "Hi"}

    with pytest.raises(ActionFailed) as failed:
        await runner.run(definition, "create_issue", inputs, as_user(github))

    assert failed.value.message == "GitHub answered 500; try again later."
    assert failed.value.retryable is False


async def test_github_not_answering_in_time_is_a_retryable_failure(
    github: FakeGitHub, definition: ConnectorDefinition
) -> None:
    github.faults["/user/repos"] = Reply(200, b"[]", (("Content-Type", "application/json"),), delay=1.0)
    runner = ActionRunner(timeout=0.25, trusted=loopback_apps)
    try:
        with pytest.raises(ActionFailed) as failed:
            await runner.run(definition, "list_my_repositories", {}, as_user(github))
    finally:
        await runner.aclose()

    assert failed.value.message == "GitHub did not answer within 0.25 s."
    assert (failed.value.http_status, failed.value.retryable) == (None, True)
