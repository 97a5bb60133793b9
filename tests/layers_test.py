#!/usr/bin/env python3
"""The include-boundary check of server/ (issue 11, server/README.md).

Every `#include "server/..."` in server/<layer>/ must name a header of the same layer or of a
layer it may use: the DEPS of its rootgate_layer() line in server/CMakeLists.txt, and what those
use in turn (what the library links). policy/ includes nothing from server/. Files directly in
server/ (main.cpp) sit on top and may include any layer. A file in a folder that is not a declared
layer, or an include of a path that is not a layer's (an old flat `server/x.h`), is an error too.

Usage: layers_test.py [SOURCE_DIR]      check the tree (default: this script's repository)
       layers_test.py --self-test        check that the checker catches a bad include
Exit code 0: no include crosses a boundary; 1: violations, each printed as FILE:LINE: why.
"""
import os
import re
import shutil
import sys
import tempfile

INCLUDE = re.compile(r'^\s*#\s*include\s*"([^"]+)"')
LAYER = re.compile(r'rootgate_layer\(\s*(\w+)([^)]*)\)', re.S)
SOURCE_SUFFIXES = ('.h', '.hpp', '.cpp', '.cc')


def read_layers(root):
    """{layer: set of layers it uses directly} from server/CMakeLists.txt."""
    text = open(os.path.join(root, 'server', 'CMakeLists.txt')).read()
    text = re.sub(r'#[^\n]*', '', text)  # comments name rootgate_layer() too
    layers = {}
    for name, args in LAYER.findall(text):
        words = args.split()
        deps, taking = set(), False
        for w in words:
            if w in ('DEPS', 'LIBS'):
                taking = w == 'DEPS'
            elif taking:
                deps.add(w)
        layers[name] = deps
    if not layers:
        sys.exit('layers_test: no rootgate_layer() lines in server/CMakeLists.txt')
    return layers


def closure(layers):
    """{layer: every layer it may include}: itself, its DEPS, and theirs."""
    allowed = {}
    for name in layers:
        seen, todo = {name}, list(layers[name])
        while todo:
            d = todo.pop()
            if d not in seen:
                seen.add(d)
                todo.extend(layers.get(d, ()))
        allowed[name] = seen
    return allowed


def includes(path):
    with open(path, encoding='utf-8', errors='replace') as f:
        for number, line in enumerate(f, 1):
            m = INCLUDE.match(line)
            if m:
                yield number, m.group(1)


def check_file(rel, path, layer, layers, allowed):
    """Violations of one file; `layer` is None for server/main.cpp and 'policy' for policy/."""
    problems = []
    for number, target in includes(path):
        parts = target.split('/')
        if parts[0] == 'policy':
            continue  # below every layer
        if parts[0] != 'server':
            continue  # a system or third-party header
        if len(parts) < 3 or parts[1] not in layers:
            problems.append(f'{rel}:{number}: includes {target}: not in a server/ layer folder')
        elif layer == 'policy':
            problems.append(f'{rel}:{number}: includes {target}: policy/ uses nothing from server/')
        elif layer is not None and parts[1] not in allowed[layer]:
            may = ', '.join(sorted(allowed[layer] - {layer, 'policy'})) or 'nothing else'
            problems.append(f'{rel}:{number}: includes {target}: server/{layer}/ may use '
                            f'only {may} (and policy/)')
    return problems


def check_tree(root):
    layers = read_layers(root)
    allowed = closure(layers)
    problems, files, count = [], 0, 0
    for top in ('server', 'policy'):
        for directory, _, names in os.walk(os.path.join(root, top)):
            for name in sorted(names):
                if not name.endswith(SOURCE_SUFFIXES):
                    continue
                path = os.path.join(directory, name)
                rel = os.path.relpath(path, root)
                parts = rel.split(os.sep)
                if top == 'policy':
                    layer = 'policy'
                elif len(parts) == 2:
                    layer = None  # server/main.cpp: the top
                elif parts[1] in layers and len(parts) == 3:
                    layer = parts[1]
                else:
                    problems.append(f'{rel}: not in a declared layer (server/CMakeLists.txt)')
                    continue
                files += 1
                count += sum(1 for _ in includes(path))
                problems += check_file(rel, path, layer, layers, allowed)
    return problems, files, count, layers


def main(root):
    problems, files, count, layers = check_tree(root)
    for p in problems:
        print(p)
    print(f'layers_test: {len(layers)} layers, {files} files, {count} quoted includes, '
          f'{len(problems)} crossing a boundary')
    return 1 if problems else 0


def self_test():
    """The checker must pass a tree that keeps the rules and fail one that breaks each of them."""
    def tree(files):
        root = tempfile.mkdtemp(prefix='layers_test.')
        os.makedirs(os.path.join(root, 'server'))
        os.makedirs(os.path.join(root, 'policy'))
        with open(os.path.join(root, 'server', 'CMakeLists.txt'), 'w') as f:
            f.write('# rootgate_layer(commented DEPS none)\n'
                    'rootgate_layer(util DEPS policy LIBS Threads::Threads)\n'
                    'rootgate_layer(registry DEPS util)\n'
                    'rootgate_layer(webhook DEPS registry\n  LIBS OpenSSL::SSL)\n')
        for rel, text in files.items():
            os.makedirs(os.path.dirname(os.path.join(root, rel)), exist_ok=True)
            with open(os.path.join(root, rel), 'w') as f:
                f.write(text)
        return root

    good = {'server/util/a.h': '#include <string>\n#include "policy/p.h"\n',
            'server/registry/b.h': '#include "server/util/a.h"\n',
            'server/webhook/c.cpp': '#include "server/util/a.h"\n#include "server/registry/b.h"\n',
            'server/main.cpp': '#include "server/webhook/c.h"\n',
            'policy/p.h': '#include <vector>\n'}
    bad_cases = {
        'upward': {'server/registry/b.cpp': '#include "server/webhook/c.h"\n'},
        'upward, spaced': {'server/util/a.cpp': '  #  include "server/registry/b.h"\n'},
        'commented layer is no layer': {'server/util/a.cpp': '#include "server/commented/x.h"\n'},
        'old flat path': {'server/util/a.cpp': '#include "server/files.h"\n'},
        'policy uses server': {'policy/q.h': '#include "server/util/a.h"\n'},
        'undeclared folder': {'server/kube/k.h': '#include <map>\n'},
    }
    failures = []
    root = tree(good)
    problems = check_tree(root)[0]
    shutil.rmtree(root)
    if problems:
        failures.append(f'a tree that keeps the rules was refused: {problems}')
    for case, extra in bad_cases.items():
        root = tree({**good, **extra})
        problems = check_tree(root)[0]
        shutil.rmtree(root)
        if len(problems) != 1:
            failures.append(f'{case}: expected one violation, got {problems}')
    for f in failures:
        print('layers_test self-test:', f)
    print(f'layers_test self-test: {len(bad_cases)} bad trees, {len(failures)} failures')
    return 1 if failures else 0


if __name__ == '__main__':
    if sys.argv[1:] == ['--self-test']:
        sys.exit(self_test())
    default = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else default))
