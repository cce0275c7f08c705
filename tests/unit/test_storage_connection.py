"""Reading the Functions host's storage settings: connection string or identity."""

from __future__ import annotations

import pytest

from shared.config.storage import parse_storage_connection

AZURITE = (
    "DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=a2V5PT0=;"
    "BlobEndpoint=http://127.0.0.1:10000/devstoreaccount1;"
    "QueueEndpoint=http://127.0.0.1:10001/devstoreaccount1;"
)


def test_connection_string_is_used_as_is_and_never_shown() -> None:
    """AzureWebJobsStorage is taken whole; repr and describe() leave the key out."""
    connection = parse_storage_connection({"AzureWebJobsStorage": AZURITE})
    assert connection.connection_string == AZURITE
    assert not connection.uses_identity
    assert "a2V5PT0=" not in repr(connection)
    assert "a2V5PT0=" not in connection.describe()
    assert "devstoreaccount1" in connection.describe()


def test_development_storage_shortcut_is_accepted() -> None:
    """UseDevelopmentStorage=true is a connection string the SDKs understand."""
    connection = parse_storage_connection({"AzureWebJobsStorage": "UseDevelopmentStorage=true"})
    assert connection.connection_string == "UseDevelopmentStorage=true"


def test_connection_string_wins_over_identity_settings() -> None:
    """As in the host: a value for the setting itself is used before its sections."""
    connection = parse_storage_connection(
        {"AzureWebJobsStorage": AZURITE, "AzureWebJobsStorage__accountName": "other"}
    )
    assert connection.connection_string == AZURITE


def test_account_name_gives_the_three_service_uris() -> None:
    """__accountName alone: https://<account>.<service>.core.windows.net, default identity."""
    connection = parse_storage_connection({"AzureWebJobsStorage__accountName": "stbridge01"})
    assert connection.uses_identity
    assert connection.blob_service_uri == "https://stbridge01.blob.core.windows.net"
    assert connection.queue_service_uri == "https://stbridge01.queue.core.windows.net"
    assert connection.table_service_uri == "https://stbridge01.table.core.windows.net"
    assert connection.client_id is None


def test_service_uris_and_a_user_assigned_identity() -> None:
    """Explicit URIs (trailing slash dropped) and clientId with credential=managedidentity."""
    connection = parse_storage_connection(
        {
            "AzureWebJobsStorage__blobServiceUri": "https://st.blob.core.usgovcloudapi.net/",
            "AzureWebJobsStorage__queueServiceUri": "https://st.queue.core.usgovcloudapi.net",
            "AzureWebJobsStorage__credential": "managedidentity",
            "AzureWebJobsStorage__clientId": "00000000-0000-0000-0000-000000000001",
        }
    )
    assert connection.blob_service_uri == "https://st.blob.core.usgovcloudapi.net"
    assert connection.queue_service_uri == "https://st.queue.core.usgovcloudapi.net"
    assert connection.table_service_uri is None
    assert connection.client_id == "00000000-0000-0000-0000-000000000001"
    assert "user-assigned" in connection.describe()


def test_explicit_uri_wins_over_the_account_name() -> None:
    """A service URI given explicitly is used; the account name fills in the others."""
    connection = parse_storage_connection(
        {
            "AzureWebJobsStorage__accountName": "stbridge01",
            "AzureWebJobsStorage__queueServiceUri": "https://queues.example.net",
        }
    )
    assert connection.queue_service_uri == "https://queues.example.net"
    assert connection.blob_service_uri == "https://stbridge01.blob.core.windows.net"


@pytest.mark.parametrize(
    ("environ", "named"),
    [
        ({}, ["AzureWebJobsStorage", "__accountName", "__queueServiceUri"]),
        ({"AzureWebJobsStorage": "   "}, ["AzureWebJobsStorage"]),
        (
            {"AzureWebJobsStorage__queueServiceUri": "https://st.queue.core.windows.net"},
            ["AzureWebJobsStorage__blobServiceUri"],
        ),
        (
            {
                "AzureWebJobsStorage__blobServiceUri": "http://st.blob.core.windows.net",
                "AzureWebJobsStorage__queueServiceUri": "https://st.queue.core.windows.net",
            },
            ["AzureWebJobsStorage__blobServiceUri must be an https:// URL"],
        ),
        ({"AzureWebJobsStorage__accountName": "Not_An_Account"}, ["__accountName"]),
        (
            {
                "AzureWebJobsStorage__accountName": "stbridge01",
                "AzureWebJobsStorage__clientId": "00000000-0000-0000-0000-000000000001",
            },
            ["__clientId needs AzureWebJobsStorage__credential=managedidentity"],
        ),
        (
            {
                "AzureWebJobsStorage__accountName": "stbridge01",
                "AzureWebJobsStorage__credential": "clientsecret",
            },
            ["__credential must be 'managedidentity'"],
        ),
    ],
)
def test_unusable_settings_are_named(environ: dict[str, str], named: list[str]) -> None:
    """Each problem is a ValueError naming the settings to set or fix."""
    with pytest.raises(ValueError, match="AzureWebJobsStorage") as caught:
        parse_storage_connection(environ)
    for text in named:
        assert text in str(caught.value)


@pytest.mark.parametrize(
    "text",
    [
        "AccountKey=c2VjcmV0LWtleQ==",
        "just some text with the key c2VjcmV0LWtleQ==",
        "DefaultEndpointsProtocol=https;AccountKey=c2VjcmV0LWtleQ==;garbage",
    ],
)
def test_a_bad_connection_string_is_refused_without_quoting_it(text: str) -> None:
    """The error explains the shape expected and never repeats the (secret) value."""
    with pytest.raises(ValueError, match="not a storage connection string") as caught:
        parse_storage_connection({"AzureWebJobsStorage": text})
    assert "c2VjcmV0LWtleQ" not in str(caught.value)


def test_another_connection_name_reads_its_own_settings() -> None:
    """A binding's connection="Foo" reads Foo and Foo__*, as the host does."""
    connection = parse_storage_connection({"Foo__accountName": "stfoo001"}, "Foo")
    assert connection.setting == "Foo"
    assert connection.queue_service_uri == "https://stfoo001.queue.core.windows.net"
