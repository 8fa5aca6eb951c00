"""The plan compiler: YAML plans to a validated, deterministic DAG IR."""

from cpe.compiler.compile import check_text, compile_file, compile_text
from cpe.compiler.diagnostics import CompileError, Diagnostic, Severity

__all__ = [
    "CompileError",
    "Diagnostic",
    "Severity",
    "check_text",
    "compile_file",
    "compile_text",
]
