"""Which models the Model selector offers: discovered, pinned by settings, or the curated fallback."""

from __future__ import annotations

from app.providers.catalog import ModelCatalog, build_providers
from app.settings import Settings
from tests.fakes.provider_server import HttpError


async def catalog_for(settings: Settings) -> ModelCatalog:
    catalog = ModelCatalog(build_providers(settings), settings.model_discovery_timeout)
    await catalog.refresh()
    return catalog


async def test_models_are_discovered_from_each_provider_in_provider_order(settings):
    catalog = await catalog_for(settings)

    assert [option.key for option in catalog.options] == [
        "openai:gpt-4.1",
        "openai:gpt-4o-mini",
        "anthropic:claude-sonnet-4-5",
        "anthropic:claude-haiku-4-5",
        "together:Qwen/Qwen2.5-72B-Instruct-Turbo",
        "together:meta-llama/Llama-3.3-70B-Instruct-Turbo",
    ]
    assert catalog.ready.is_set()


async def test_a_failing_list_endpoint_falls_back_to_the_curated_models(settings, fakes, caplog):
    fakes["anthropic"].models_error = HttpError(500, "List is down")

    catalog = await catalog_for(settings)

    anthropic = [o.model_id for o in catalog.options if o.provider.id == "anthropic"]
    assert anthropic and anthropic[0].startswith("claude-")
    assert "Could not list Anthropic models" in caplog.text


async def test_pinned_models_replace_discovery(settings, fakes):
    settings = settings.model_copy(update={"openai_models": ["my-fine-tune", "gpt-5"]})

    catalog = await catalog_for(settings)

    assert [o.model_id for o in catalog.options if o.provider.id == "openai"] == ["my-fine-tune", "gpt-5"]
    assert not [r for r in fakes["openai"].requests if r.path.startswith("/v1/models")]


def test_a_provider_without_a_key_is_hidden(settings):
    settings = settings.model_copy(update={"together_api_key": None})

    assert [provider.id for provider in build_providers(settings)] == ["openai", "anthropic"]


def test_models_env_vars_are_comma_separated_lists(monkeypatch):
    monkeypatch.setenv("ANTHROPIC_MODELS", "claude-a, claude-b,,")

    assert Settings(_env_file=None).anthropic_models == ["claude-a", "claude-b"]


def test_the_default_bind_is_this_machine_only():
    assert Settings(_env_file=None).host == "127.0.0.1"
    assert Settings(_env_file=None).port == 8080


async def test_the_embedded_model_is_the_default_only_when_nothing_else_is_set_up(settings):
    with_local = settings.model_copy(update={"local_model_enabled": True})
    catalog = await catalog_for(with_local)
    assert catalog.default_key == "openai:gpt-4.1"
    assert catalog.options[-1].key == "local:SmolLM2-135M-Instruct"

    nothing_else = with_local.model_copy(update={f"{d}_api_key": None for d in ("openai", "anthropic", "together")})
    catalog = await catalog_for(nothing_else)
    assert catalog.default_key == "local:SmolLM2-135M-Instruct"
    assert catalog.find(catalog.default_key).label == "Local · SmolLM2-135M-Instruct (offline, small)"


async def test_a_local_model_path_that_does_not_exist_is_left_out_with_a_warning(settings, tmp_path, caplog):
    missing = settings.model_copy(update={"local_model_enabled": True, "local_model_path": tmp_path / "gone.gguf"})

    catalog = await catalog_for(missing)

    assert not [option for option in catalog.options if option.provider.id == "local"]
    assert "Could not list Local models (no model file at" in caplog.text


def test_local_model_path_comes_from_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("LOCAL_MODEL_PATH", str(tmp_path / "qwen2.5-0.5b-instruct-q4_k_m.gguf"))

    assert Settings(_env_file=None).local_model_path == tmp_path / "qwen2.5-0.5b-instruct-q4_k_m.gguf"
