"""Reading ``template.yaml``: CloudFormation short tags, SAM Globals, parameters, conditions and intrinsics.

The local runtime and the tests learn everything about the system from here, so nothing describes it twice.
Only what the local runtime needs is modelled: functions (with their events), layers, and the plain resources
it provisions; everything else (alarms, log groups, IAM) is read and left alone.
"""

from __future__ import annotations

import base64
import copy
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

INTRINSICS = (
    "Ref",
    "Condition",
    "Fn::GetAtt",
    "Fn::Sub",
    "Fn::If",
    "Fn::Equals",
    "Fn::Not",
    "Fn::And",
    "Fn::Or",
    "Fn::Join",
    "Fn::Select",
    "Fn::Split",
    "Fn::FindInMap",
    "Fn::Base64",
    "Fn::GetAZs",
    "Fn::ImportValue",
)
NO_VALUE = object()  # AWS::NoValue: the key is dropped
SUB_VAR = re.compile(r"\$\{([^}!][^}]*)\}")


class TemplateError(ValueError):
    """The template says something this runtime cannot follow."""


class _Loader(yaml.SafeLoader):
    pass


def _tag(name: str) -> Callable[[yaml.Loader, yaml.Node], dict[str, Any]]:
    key = name if name in ("Ref", "Condition") else f"Fn::{name}"

    def construct(loader: yaml.Loader, node: yaml.Node) -> dict[str, Any]:
        if isinstance(node, yaml.ScalarNode):
            value: Any = loader.construct_scalar(node)
            if key == "Fn::GetAtt":
                value = str(value).split(".", 1)
        elif isinstance(node, yaml.SequenceNode):
            value = loader.construct_sequence(node, deep=True)
        else:
            value = loader.construct_mapping(node, deep=True)  # type: ignore[arg-type]
        return {key: value}

    return construct


for _name in ("Ref", "Condition", *(i.split("::", 1)[1] for i in INTRINSICS if i.startswith("Fn::"))):
    _Loader.add_constructor(f"!{_name}", _tag(_name))


def load_yaml(path: Path | str) -> dict[str, Any]:
    with open(path, encoding="utf-8") as fh:
        return yaml.load(fh, Loader=_Loader)  # noqa: S506 - a SafeLoader subclass that only adds CFN tags


@dataclass
class Layer:
    logical_id: str
    content_uri: Path

    @property
    def requirements(self) -> Path:
        return self.content_uri / "requirements.txt"


@dataclass
class EventSource:
    name: str
    type: str
    properties: dict[str, Any]


@dataclass
class Function:
    logical_id: str
    code_uri: Path
    handler: str
    runtime: str
    timeout: int
    memory: int
    environment: dict[str, Any]
    layers: list[Any]
    events: list[EventSource]
    properties: dict[str, Any] = field(repr=False, default_factory=dict)

    @property
    def requirements(self) -> Path:
        return self.code_uri / "requirements.txt"


def _merge_globals(global_props: Mapping[str, Any], props: Mapping[str, Any]) -> dict[str, Any]:
    """SAM's Globals rule: maps merge, lists add up, scalars are overridden by the resource."""
    merged = copy.deepcopy(dict(global_props))
    for key, value in props.items():
        if key in merged and isinstance(merged[key], dict) and isinstance(value, dict):
            merged[key] = _merge_globals(merged[key], value)
        elif key in merged and isinstance(merged[key], list) and isinstance(value, list):
            merged[key] = merged[key] + copy.deepcopy(value)
        else:
            merged[key] = copy.deepcopy(value)
    return merged


FOR_EACH = "Fn::ForEach::"


def expand_for_each(section: Mapping[str, Any]) -> dict[str, Any]:
    """A section with its ``Fn::ForEach::Name: [Identifier, [values], {key: fragment}]`` loops expanded, as the
    ``AWS::LanguageExtensions`` transform does: for each value, every ``${Identifier}`` / ``&{Identifier}`` in the
    keys and the fragment (``!Ref`` and ``!Sub`` strings included) becomes the value, and ``!Ref Identifier`` the
    value itself. Loops nest. Only literal collections (the template's own lists) are expanded here."""
    out: dict[str, Any] = {}
    for key, value in section.items():
        if not key.startswith(FOR_EACH):
            out[key] = value
            continue
        identifier, collection, fragment = value
        if not isinstance(collection, list):
            raise TemplateError(f"{key}: only a literal list is supported as the collection")
        for item in collection:
            expanded = _substitute(fragment, str(identifier), str(item))
            for out_key, out_value in expand_for_each(expanded).items():
                if out_key in out:
                    raise TemplateError(f"{key} makes {out_key}, which is there already")
                out[out_key] = out_value
    return out


def _substitute(value: Any, identifier: str, item: str) -> Any:
    if isinstance(value, str):
        return value.replace("${" + identifier + "}", item).replace("&{" + identifier + "}", item)
    if isinstance(value, list):
        return [_substitute(v, identifier, item) for v in value]
    if isinstance(value, dict):
        if value == {"Ref": identifier}:
            return item
        return {_substitute(k, identifier, item): _substitute(v, identifier, item) for k, v in value.items()}
    return value


class Template:
    """A parsed SAM template, with parameter values and conditions evaluated."""

    def __init__(
        self,
        path: Path | str,
        parameters: Mapping[str, str] | None = None,
        *,
        region: str = "us-east-1",
        account_id: str = "123456789012",
        stack_name: str = "gears-local",
    ) -> None:
        self.path = Path(path).resolve()
        self.root = self.path.parent
        self.doc = load_yaml(self.path)
        self.region = region
        self.account_id = account_id
        self.stack_name = stack_name
        self.resources: dict[str, dict[str, Any]] = expand_for_each(self.doc.get("Resources") or {})
        self.parameters = self._parameter_values(parameters or {})
        self.conditions: dict[str, bool] = {}
        for name in self.doc.get("Conditions") or {}:
            self._condition(name)

    # -- parameters and conditions ------------------------------------------------------------------------------
    def _parameter_values(self, overrides: Mapping[str, str]) -> dict[str, Any]:
        values: dict[str, Any] = {}
        for name, spec in (self.doc.get("Parameters") or {}).items():
            if name in overrides:
                values[name] = overrides[name]
            elif "Default" in spec:
                values[name] = spec["Default"]
            else:
                raise TemplateError(f"parameter {name} has no default and no value was given")
            allowed = spec.get("AllowedValues")
            if allowed and str(values[name]) not in [str(a) for a in allowed]:
                raise TemplateError(f"parameter {name}={values[name]!r} is not one of {allowed}")
        return values

    def _condition(self, name: str) -> bool:
        if name not in self.conditions:
            spec = (self.doc.get("Conditions") or {}).get(name)
            if spec is None:
                raise TemplateError(f"unknown condition {name}")
            self.conditions[name] = bool(self.resolve(spec, lambda *_: None))
        return self.conditions[name]

    def pseudo(self, name: str) -> Any:
        return {
            "AWS::Region": self.region,
            "AWS::AccountId": self.account_id,
            "AWS::StackName": self.stack_name,
            "AWS::StackId": f"arn:aws:cloudformation:{self.region}:{self.account_id}:stack/{self.stack_name}/local",
            "AWS::Partition": "aws",
            "AWS::URLSuffix": "amazonaws.com",
            "AWS::NoValue": NO_VALUE,
            "AWS::NotificationARNs": [],
        }[name]

    # -- resources ----------------------------------------------------------------------------------------------
    def included(self, logical_id: str) -> bool:
        cond = self.resources[logical_id].get("Condition")
        return True if cond is None else self._condition(cond)

    def of_type(self, *types: str) -> dict[str, dict[str, Any]]:
        return {lid: res for lid, res in self.resources.items() if res.get("Type") in types and self.included(lid)}

    def properties(self, logical_id: str) -> dict[str, Any]:
        res = self.resources[logical_id]
        props = res.get("Properties") or {}
        kind = res.get("Type", "")
        if kind.startswith("AWS::Serverless::"):
            section = kind.split("::")[-1]
            props = _merge_globals((self.doc.get("Globals") or {}).get(section) or {}, props)
        return props

    def functions(self) -> dict[str, Function]:
        out = {}
        for lid in self.of_type("AWS::Serverless::Function"):
            p = self.properties(lid)
            if p.get("PackageType") == "Image" or p.get("InlineCode"):
                raise TemplateError(f"{lid}: only zip functions with a CodeUri run locally")
            events = [
                EventSource(name=n, type=e.get("Type", ""), properties=e.get("Properties") or {})
                for n, e in (p.get("Events") or {}).items()
            ]
            out[lid] = Function(
                logical_id=lid,
                code_uri=(self.root / str(p.get("CodeUri", "."))).resolve(),
                handler=str(p["Handler"]),
                runtime=str(p.get("Runtime", "python3.11")),
                timeout=int(p.get("Timeout", 3)),
                memory=int(p.get("MemorySize", 128)),
                environment=((p.get("Environment") or {}).get("Variables") or {}),
                layers=list(p.get("Layers") or []),
                events=events,
                properties=p,
            )
        return out

    def layers(self) -> dict[str, Layer]:
        return {
            lid: Layer(lid, (self.root / str(self.properties(lid).get("ContentUri", "."))).resolve())
            for lid in self.of_type("AWS::Serverless::LayerVersion")
        }

    def http_api(self, logical_id: str | None = None) -> tuple[str, dict[str, Any]]:
        apis = self.of_type("AWS::Serverless::HttpApi")
        if not apis:
            raise TemplateError("the template declares no AWS::Serverless::HttpApi")
        lid = logical_id or next(iter(apis))
        return lid, self.properties(lid)

    # -- intrinsics ---------------------------------------------------------------------------------------------
    def resolve(self, value: Any, lookup: Callable[[str, str | None], Any]) -> Any:
        """Resolve intrinsics in ``value``; ``lookup(logical_id, attribute_or_None)`` answers Ref and GetAtt."""
        if isinstance(value, list):
            items = [self.resolve(v, lookup) for v in value]
            return [v for v in items if v is not NO_VALUE]
        if not isinstance(value, dict):
            return value
        if len(value) == 1:
            ((key, arg),) = value.items()
            if key in INTRINSICS:
                return self._intrinsic(key, arg, lookup)
        out = {}
        for k, v in value.items():
            r = self.resolve(v, lookup)
            if r is not NO_VALUE:
                out[k] = r
        return out

    def _ref(self, name: str, lookup: Callable[[str, str | None], Any]) -> Any:
        if name.startswith("AWS::"):
            return self.pseudo(name)
        if name in self.parameters:
            return self.parameters[name]
        if name not in self.resources:
            raise TemplateError(f"Ref to unknown name {name}")
        return lookup(name, None)

    def _intrinsic(self, key: str, arg: Any, lookup: Callable[[str, str | None], Any]) -> Any:  # noqa: C901 - one branch per intrinsic function: a flat dispatch
        r = lambda v: self.resolve(v, lookup)  # noqa: E731
        if key == "Ref":
            return self._ref(str(arg), lookup)
        if key == "Condition":
            return self._condition(str(arg))
        if key == "Fn::GetAtt":
            parts = arg if isinstance(arg, list) else str(arg).split(".", 1)
            return lookup(str(parts[0]), str(r(parts[1])))
        if key == "Fn::Sub":
            text, variables = (arg, {}) if isinstance(arg, str) else (arg[0], r(arg[1]))
            return self._sub(text, variables, lookup)
        if key == "Fn::If":
            cond, yes, no = arg
            return r(yes) if self._condition(cond) else r(no)
        if key == "Fn::Equals":
            a, b = r(arg[0]), r(arg[1])
            return str(a) == str(b)
        if key == "Fn::Not":
            return not r(arg[0])
        if key == "Fn::And":
            return all(r(a) for a in arg)
        if key == "Fn::Or":
            return any(r(a) for a in arg)
        if key == "Fn::Join":
            sep, items = arg
            return str(sep).join(str(i) for i in r(items))
        if key == "Fn::Select":
            index, items = arg
            return r(items)[int(r(index))]
        if key == "Fn::Split":
            sep, text = arg
            return str(r(text)).split(sep)
        if key == "Fn::FindInMap":
            m, k1, k2 = (r(a) for a in arg)
            return self.doc["Mappings"][m][k1][k2]
        if key == "Fn::Base64":
            return base64.b64encode(str(r(arg)).encode()).decode()
        if key == "Fn::GetAZs":
            return [f"{self.region}{z}" for z in "abc"]
        raise TemplateError(f"{key} is not supported locally")

    def _sub(self, text: str, variables: Mapping[str, Any], lookup: Callable[[str, str | None], Any]) -> str:
        def replace(match: re.Match[str]) -> str:
            name = match.group(1).strip()
            if name in variables:
                return str(variables[name])
            if "." in name and not name.startswith("AWS::"):
                lid, attr = name.split(".", 1)
                return str(lookup(lid, attr))
            return str(self._ref(name, lookup))

        return SUB_VAR.sub(replace, text).replace("${!", "${")


def references(value: Any) -> set[str]:
    """The logical ids a value refers to through Ref, GetAtt and Sub (parameters and pseudo names included)."""
    found: set[str] = set()
    if isinstance(value, list):
        for v in value:
            found |= references(v)
    elif isinstance(value, dict):
        if len(value) == 1:
            ((key, arg),) = value.items()
            if key == "Ref":
                found.add(str(arg))
                return found
            if key == "Fn::GetAtt":
                parts = arg if isinstance(arg, list) else str(arg).split(".", 1)
                found.add(str(parts[0]))
                return found
            if key == "Fn::Sub":
                text = arg if isinstance(arg, str) else arg[0]
                names = {m.group(1).split(".", 1)[0].strip() for m in SUB_VAR.finditer(text)}
                if not isinstance(arg, str):
                    names -= set(arg[1])
                    found |= references(arg[1])
                found |= {n for n in names if not n.startswith("AWS::")}
                return found
        for v in value.values():
            found |= references(v)
    return found
