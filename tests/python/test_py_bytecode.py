"""edgeworker.compile_bundle(): a bytecode bundle the runtime loads without compiling."""
import pytest

import edgeworker


def test_compile_bundle_round_trip(tmp_path):
    (tmp_path / "lib.js").write_text("export const word = 'one';\n")
    (tmp_path / "index.js").write_text(
        "import { word } from './lib.js';\nexport default { fetch: () => new Response(`word=${word}`) };\n")
    data = edgeworker.compile_bundle(tmp_path / "index.js")
    assert data[:5] == b"\xffEWBC"
    bundle = tmp_path / "w.ewbc"
    bundle.write_bytes(data)
    with edgeworker.Runtime() as rt:
        assert rt.load(path=bundle).fetch("/").text() == "word=one"
        bundle.write_bytes(data[:100])
        with pytest.raises(edgeworker.EdgeWorkerError) as e:
            rt.load(path=bundle)
        assert "truncated bytecode bundle" in str(e.value) and "ew-server build" in str(e.value)


def test_compile_bundle_errors(tmp_path):
    (tmp_path / "bad.js").write_text("export default {\n")
    with pytest.raises(edgeworker.ScriptError) as e:
        edgeworker.compile_bundle(tmp_path / "bad.js")
    assert e.value.line >= 1
    with pytest.raises(edgeworker.EdgeWorkerError):
        edgeworker.compile_bundle(tmp_path / "missing.js")
