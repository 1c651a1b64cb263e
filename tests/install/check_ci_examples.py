#!/usr/bin/env python3
"""check_ci_examples.py ROOT [BINDIR] - the CI examples in ROOT/examples/ci/
are valid YAML of their kind (a GitHub Actions workflow: on + jobs, each job
with runs-on and steps; a GitLab CI file: every job has a script), and
every command they run exists: a path (ci/smoke, build/bin/fake-msp) in the
repository or among the built programs in BINDIR, a bare name among the
programs in BINDIR (as installed) or on PATH, or a shell builtin. For the
project's own programs every --option used must appear in their --help,
and msp-contract's subcommand must be one of its commands.
Exit status 0 when all hold, 1 otherwise (each problem printed)."""
import os
import re
import shlex
import shutil
import subprocess
import sys

import yaml

BUILTINS = {"set", "read", "printf", "echo", "export", "cd", "kill", "wait",
            "test", "[", "true", "false", "exit", "trap", "unset", "local",
            ":", "if", "then", "else", "elif", "fi", "for", "do", "done",
            "while", "until", "case", "esac", "!", "{", "}"}
PROGRAMS = {"msp-exec", "fake-msp", "msp-contract"}
SUBCOMMANDS = {"verify", "provider", "lint", "coverage"}
GITLAB_RESERVED = {"image", "services", "stages", "variables", "default",
                   "include", "workflow", "cache", "before_script",
                   "after_script"}

problems = []


def problem(where, what):
    problems.append(f"{where}: {what}")


def simple_commands(script):
    """Splits a shell script into simple commands (lists of words)."""
    script = script.replace("\\\n", " ")
    subs = re.findall(r"\$\(([^()]*)\)", script)
    script = re.sub(r"\$\(([^()]*)\)", "SUBST", script)
    out = []
    for line in script.splitlines() + subs:
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        lex = shlex.shlex(line, posix=True, punctuation_chars=";&|<>")
        lex.whitespace_split = True
        words = []
        try:
            tokens = list(lex)
        except ValueError as e:
            out.append(["<unparsable>", str(e), line])
            continue
        redirect = False
        for t in tokens + [";"]:
            if t and set(t) <= set(";&|"):
                if words:
                    out.append(words)
                words, redirect = [], False
            elif set(t) <= set("<>"):
                redirect = True
            elif redirect:
                redirect = False  # the redirection's target
            else:
                words.append(t)
    return out


def help_text(bindir, prog, cache={}):
    if prog not in cache:
        cache[prog] = subprocess.run([os.path.join(bindir, prog), "--help"],
                                     capture_output=True, text=True,
                                     timeout=10).stdout
    return cache[prog]


def check_command(where, words, root, bindir):
    while words and (re.match(r"^[A-Za-z_][A-Za-z0-9_]*=", words[0])
                     or words[0] in ("if", "then", "else", "elif", "!",
                                     "do", "while", "until")):
        words = words[1:]
    if not words:
        return
    cmd = words[0]
    if cmd == "<unparsable>":
        problem(where, f"cannot parse shell: {words[1]}: {words[2]}")
        return
    prog = None
    if "/" in cmd:
        if cmd.startswith("build/bin/"):
            prog = cmd[len("build/bin/"):]
            if prog not in PROGRAMS or (bindir and not os.access(
                    os.path.join(bindir, prog), os.X_OK)):
                problem(where, f"{cmd}: no such built program")
                return
        elif not os.access(os.path.join(root, cmd), os.X_OK):
            problem(where, f"{cmd}: not an executable file of the repository")
            return
    elif cmd in PROGRAMS:
        prog = cmd
    elif cmd not in BUILTINS and not shutil.which(cmd):
        problem(where, f"{cmd}: no such command")
        return
    if prog and bindir:
        text = help_text(bindir, prog)
        for w in words[1:]:
            opt = w.split("=", 1)[0]
            if opt.startswith("--") and opt not in text:
                problem(where, f"{prog}: option {opt} is not in its --help")
        if prog == "msp-contract" and (len(words) < 2
                                       or words[1] not in SUBCOMMANDS):
            problem(where, f"msp-contract: no such command "
                           f"{words[1] if len(words) > 1 else '(none)'}")


def check_script(where, script, root, bindir, counted):
    for words in simple_commands(script):
        counted.append(words[0])
        check_command(where, words, root, bindir)


def check_github(path, root, bindir):
    doc = yaml.safe_load(open(path))
    name = os.path.relpath(path, root)
    if not isinstance(doc, dict) or ("on" not in doc and True not in doc):
        problem(name, "not a workflow: no 'on'")
        return 0
    jobs = doc.get("jobs")
    if not isinstance(jobs, dict) or not jobs:
        problem(name, "no jobs")
        return 0
    counted = []
    for job, spec in jobs.items():
        if "runs-on" not in spec or not isinstance(spec.get("steps"), list):
            problem(f"{name}: {job}", "a job needs runs-on and steps")
            continue
        for i, step in enumerate(spec["steps"]):
            where = f"{name}: {job}: step {i + 1}"
            if "uses" in step:
                if not re.match(r"^[\w.-]+/[\w./-]+@[\w.-]+$", step["uses"]):
                    problem(where, f"uses: {step['uses']!r} is not owner/repo@ref")
            elif "run" in step:
                check_script(where, step["run"], root, bindir, counted)
            else:
                problem(where, "neither uses nor run")
    return len(counted)


def check_gitlab(path, root, bindir):
    doc = yaml.safe_load(open(path))
    name = os.path.relpath(path, root)
    if not isinstance(doc, dict):
        problem(name, "not a mapping")
        return 0
    counted = []
    jobs = [k for k in doc if k not in GITLAB_RESERVED and not k.startswith(".")]
    if not jobs:
        problem(name, "no jobs")
    for job in jobs:
        spec = doc[job]
        if not isinstance(spec, dict) or not isinstance(spec.get("script"), list):
            problem(f"{name}: {job}", "a job needs a script list")
            continue
        if "stage" in spec and spec["stage"] not in doc.get("stages", ["test"]):
            problem(f"{name}: {job}", f"stage {spec['stage']} is not in stages")
        for key in ("before_script", "script", "after_script"):
            for i, line in enumerate(spec.get(key) or []):
                check_script(f"{name}: {job}: {key}[{i}]", line, root, bindir,
                             counted)
    return len(counted)


def main(argv):
    if len(argv) < 2:
        print(__doc__, file=sys.stderr)
        return 64
    root = os.path.abspath(argv[1])
    bindir = argv[2] if len(argv) > 2 else None
    gh = os.path.join(root, "examples/ci/github-actions.yml")
    gl = os.path.join(root, "examples/ci/gitlab-ci.yml")
    n = 0
    for path, check in ((gh, check_github), (gl, check_gitlab)):
        if not os.path.exists(path):
            problem(os.path.relpath(path, root), "missing")
            continue
        try:
            n += check(path, root, bindir)
        except yaml.YAMLError as e:
            problem(os.path.relpath(path, root), f"invalid YAML: {e}")
    for p in problems:
        print(f"check_ci_examples: {p}", file=sys.stderr)
    if problems:
        return 1
    print(f"check_ci_examples: 2 files, {n} commands, all exist")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
