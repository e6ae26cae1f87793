"""Checks that every cdk8s_mesh name a Python snippet uses exists in the generated bindings.

Usage: python3 check_python_names.py <generated cdk8s_mesh/__init__.py> <snippet.py>...

Both files are parsed, never imported (importing the bindings needs the jsii runtime and Node.js).
For each snippet it follows the names imported from cdk8s_mesh: classes constructed, static
methods and enum members used on them, and methods and properties of the objects they return
(their types come from the return annotations of the generated code). Every keyword argument
must be a parameter of the method called, every required keyword-only parameter must be given,
and positional arguments must not outnumber the positional parameters. Names from other modules
(cdk8s, constructs) are not checked.

Prints one problem per line and exits with 1 if there is any; the last line on standard error
says how many names were checked.
"""
import ast
import sys


def annotation_class(node):
    """The cdk8s_mesh class a return/property annotation names (`"ServiceVersion"`), else None."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value.isidentifier():
        return node.value
    if isinstance(node, ast.Name):
        return node.id
    return None


def decorator_names(func):
    names = set()
    for d in func.decorator_list:
        target = d.func if isinstance(d, ast.Call) else d
        if isinstance(target, ast.Attribute):
            names.add(target.attr)
        elif isinstance(target, ast.Name):
            names.add(target.id)
    return names


class Method:
    def __init__(self, func, is_static):
        args = func.args
        positional = [a.arg for a in args.posonlyargs + args.args]
        if not is_static:
            positional = positional[1:]  # self / cls
        self.positional = positional
        self.keywords = set(positional) | {a.arg for a in args.kwonlyargs}
        self.required_keywords = [a.arg for a, default in zip(args.kwonlyargs, args.kw_defaults) if default is None]
        self.varargs = args.vararg is not None
        self.returns = annotation_class(func.returns)


class Class:
    def __init__(self, node):
        self.name = node.name
        self.bases = [b.id for b in node.bases if isinstance(b, ast.Name)]
        self.methods = {}
        self.statics = set()
        self.properties = {}
        self.members = set()
        for item in node.body:
            if isinstance(item, ast.FunctionDef):
                decorators = decorator_names(item)
                if 'property' in decorators:
                    self.properties[item.name] = annotation_class(item.returns)
                elif 'setter' not in decorators:
                    self.methods[item.name] = Method(item, 'staticmethod' in decorators)
                    if decorators & {'staticmethod', 'classmethod'}:
                        self.statics.add(item.name)
            elif isinstance(item, ast.Assign):
                self.members.update(t.id for t in item.targets if isinstance(t, ast.Name))


class Bindings:
    def __init__(self, path):
        with open(path, encoding='utf-8') as f:
            tree = ast.parse(f.read())
        self.classes = {n.name: Class(n) for n in tree.body if isinstance(n, ast.ClassDef)}

    def lineage(self, name):
        """The class and its cdk8s_mesh base classes."""
        seen = []
        while name in self.classes and name not in seen:
            seen.append(name)
            bases = [b for b in self.classes[name].bases if b in self.classes]
            name = bases[0] if bases else None
        return [self.classes[n] for n in seen]

    def find(self, class_name, what, member):
        for cls in self.lineage(class_name):
            table = getattr(cls, what)
            if member in table:
                return table[member] if isinstance(table, dict) else True
        return None


class Checker(ast.NodeVisitor):
    def __init__(self, bindings, filename):
        self.b = bindings
        self.filename = filename
        self.problems = []
        self.checked = 0
        self.env = {}  # variable -> ('class', name) | ('instance', name)

    def problem(self, node, message):
        self.problems.append(f'{self.filename}:{node.lineno}: {message}')

    # ---- statements ----
    def visit_ImportFrom(self, node):
        if node.module != 'cdk8s_mesh':
            return
        for alias in node.names:
            self.checked += 1
            if alias.name not in self.b.classes:
                self.problem(node, f'cdk8s_mesh has no class {alias.name}')
            else:
                self.env[alias.asname or alias.name] = ('class', alias.name)

    def visit_Assign(self, node):
        value = self.infer(node.value)
        for target in node.targets:
            if isinstance(target, ast.Name):
                self.env[target.id] = value
            else:
                self.infer(target)

    def visit_Expr(self, node):
        self.infer(node.value)

    def generic_visit(self, node):
        if isinstance(node, ast.expr):
            self.infer(node)
        else:
            super().generic_visit(node)

    # ---- expressions: return the inferred type, checking names on the way ----
    def infer(self, node):
        if isinstance(node, ast.Name):
            return self.env.get(node.id)
        if isinstance(node, ast.Attribute):
            return self.attribute(node, self.infer(node.value), called=False)
        if isinstance(node, ast.Call):
            return self.call(node)
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.expr):
                self.infer(child)
            elif isinstance(child, ast.keyword):
                self.infer(child.value)
        return None

    def attribute(self, node, owner, called):
        if owner is None:
            return None
        kind, name = owner
        self.checked += 1
        if kind == 'class':
            if node.attr in self.b.classes[name].members:
                return ('instance', name)
            if called and node.attr in self.b.classes[name].statics:
                return ('static', name, node.attr)
            self.problem(node, f'{name} has no {"static method" if called else "member"} {node.attr}')
            return None
        if called:
            if self.b.find(name, 'methods', node.attr) is not None:
                return ('method', name, node.attr)
            self.problem(node, f'{name} has no method {node.attr}')
            return None
        for cls in self.b.lineage(name):
            if node.attr in cls.properties:
                returned = cls.properties[node.attr]
                return ('instance', returned) if returned in self.b.classes else None
        self.problem(node, f'{name} has no property {node.attr}')
        return None

    def call(self, node):
        target = None
        if isinstance(node.func, ast.Name):
            owner = self.env.get(node.func.id)
            if owner and owner[0] == 'class':
                self.checked += 1
                target = (owner[1], self.b.find(owner[1], 'methods', '__init__'), f'{owner[1]}()')
        elif isinstance(node.func, ast.Attribute):
            owner = self.infer(node.func.value)
            member = self.attribute(node.func, owner, called=True)
            if member and member[0] == 'static':
                target = (member[1], self.b.classes[member[1]].methods[member[2]], f'{member[1]}.{member[2]}()')
            elif member and member[0] == 'method':
                target = (member[1], self.b.find(member[1], 'methods', member[2]), f'{member[1]}.{member[2]}()')
        for arg in node.args:
            self.infer(arg)
        for kw in node.keywords:
            self.infer(kw.value)
        if target is None:
            return None
        cls, method, label = target
        if method is None:
            self.problem(node, f'{label}: no such constructor')
            return None
        given = set()
        for kw in node.keywords:
            if kw.arg is None:
                continue
            self.checked += 1
            given.add(kw.arg)
            if kw.arg not in method.keywords:
                self.problem(kw.value, f'{label} has no argument {kw.arg}')
        if len(node.args) > len(method.positional) and not method.varargs:
            self.problem(node, f'{label} takes {len(method.positional)} positional arguments, {len(node.args)} given')
        missing = [k for k in method.required_keywords if k not in given]
        if missing and not any(kw.arg is None for kw in node.keywords):
            self.problem(node, f'{label} misses required argument(s) {", ".join(missing)}')
        if label.endswith('()') and label[:-2] == cls:
            return ('instance', cls)
        return ('instance', method.returns) if method.returns in self.b.classes else None


def main(argv):
    bindings = Bindings(argv[1])
    problems, checked = [], 0
    for snippet in argv[2:]:
        with open(snippet, encoding='utf-8') as f:
            tree = ast.parse(f.read(), filename=snippet)
        checker = Checker(bindings, snippet)
        for statement in tree.body:
            checker.visit(statement)
        problems += checker.problems
        checked += checker.checked
    for p in problems:
        print(p)
    print(f'checked {checked} names', file=sys.stderr)
    return 1 if problems else 0


if __name__ == '__main__':
    sys.exit(main(sys.argv))
