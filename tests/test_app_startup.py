"""Start-up cost of an app: what one process builds once and every app it makes reuses."""
from __future__ import annotations

from jinja2 import DictLoader, Environment

from bot import create_app
from bot.app import SharedTemplateCode


def compiles_counted(app, patch) -> list:
    """The templates ``app`` compiles from source from now on."""
    compiled: list = []
    environment = app.jinja_env
    compile_source = environment.compile

    def counting(source, name=None, *args, **kwargs):
        compiled.append(name)
        return compile_source(source, name, *args, **kwargs)
    patch.setattr(environment, "compile", counting)
    return compiled


def test_a_second_app_reuses_the_pages_the_first_compiled(app, config, monkeypatch):
    first = app.test_client().get("/console/login")
    second_app = create_app(config)
    compiled = compiles_counted(second_app, monkeypatch)
    second = second_app.test_client().get("/console/login")
    assert first.status_code == second.status_code == 200
    assert "登录" in second.get_data(as_text=True)
    assert compiled == []


def test_an_edited_template_is_compiled_afresh():
    shared = SharedTemplateCode()
    before = Environment(loader=DictLoader({"page.html": "旧 {{ x }}"}), bytecode_cache=shared)
    after = Environment(loader=DictLoader({"page.html": "新 {{ x }}"}), bytecode_cache=shared)
    assert before.get_template("page.html").render(x=1) == "旧 1"
    assert after.get_template("page.html").render(x=1) == "新 1"


def test_a_template_compiled_by_one_environment_renders_in_another():
    shared = SharedTemplateCode()
    source = {"page.html": "{% for n in items %}{{ n }}{% endfor %}"}
    one = Environment(loader=DictLoader(source), bytecode_cache=shared)
    other = Environment(loader=DictLoader(source), bytecode_cache=shared)
    one.get_template("page.html")
    compiled: list = []
    compile_source = other.compile
    other.compile = lambda *args, **kwargs: compiled.append(args) or compile_source(*args, **kwargs)
    assert other.get_template("page.html").render(items=[1, 2]) == "12"
    assert compiled == []
