import { cdk8s, javascript, TaskShell } from 'projen';

const project = new cdk8s.ConstructLibraryCdk8s({
  name: 'cdk8s-mesh',
  description:
    'Declare an Istio service mesh with cdk8s: services and versions, traffic, security and observability, '
    + 'checked at synth time and rendered to plain, schema-valid, deterministic YAML.',
  keywords: ['cdk8s', 'istio', 'service-mesh', 'kubernetes', 'mtls', 'gitops', 'argocd'],
  author: 'cdk8s-mesh authors',
  authorAddress: 'maintainers@cdk8s-mesh.dev',
  repositoryUrl: 'https://github.com/cdk8s-mesh/cdk8s-mesh.git',
  defaultReleaseBranch: 'main',
  license: 'Apache-2.0',
  stability: 'experimental',

  cdk8sVersion: '2.70.106',
  constructsVersion: '10.8.1',
  jsiiVersion: '~6.0.0',
  packageManager: javascript.NodePackageManager.NPM,
  projenrcTs: true,
  minNodeVersion: '20.0.0',

  peerDeps: ['cdk8s-plus-27@^2.9.5'],
  // Bundled (not jsii) runtime dependencies: used only inside the library and its CLI,
  // never in the public API. @bufbuild/cel (with its peer @bufbuild/protobuf) evaluates the CRDs'
  // CEL rules; @bufbuild/re2 is its RE2 engine, which also checks the CRDs' patterns.
  bundledDeps: ['yaml@^2.9.1', '@grafana/grafana-foundation-sdk@0.0.21', '@bufbuild/cel@0.6.1', '@bufbuild/protobuf@^2.6.2', '@bufbuild/re2@0.6.1'],
  devDeps: [
    'ajv@^8.20.0',
    'cdk8s-cli@^2.207.60',
    'fast-check@^4.10.2',
    // Parses every PromQL expression the library writes (tests only).
    '@prometheus-io/lezer-promql@^0.315.0',
    '@lezer/lr@^1.4.2',
    '@lezer/highlight@^1.2.1',
    // Renders the topology picture (Graphviz compiled to WebAssembly) for the README.
    '@viz-js/viz@^3.31.0',
  ],

  // No GitHub, no release machinery: this repository is built and tested by `.ci/run`.
  github: false,
  release: false,
  depsUpgrade: false,
  pullRequestTemplate: false,

  // `npx cdk8s-mesh analyze <files>`: the manifest analysis as a command.
  bin: { 'cdk8s-mesh': 'lib/analysis/cli.js' },

  jestOptions: {
    // `jest --ci`: a changed snapshot fails the test; `npx projen test:update` rewrites them.
    updateSnapshot: javascript.UpdateSnapshot.NEVER,
    jestConfig: {
      coveragePathIgnorePatterns: ['/node_modules/', '/src/imports/'],
      testPathIgnorePatterns: ['/node_modules/', '/examples/.*/dist/'],
      // Every object any test synthesizes is schema-checked (see test/support/setup.ts).
      setupFilesAfterEnv: ['<rootDir>/test/support/setup.ts'],
      // Docs snippets import the package by name, as users do.
      moduleNameMapper: { '^cdk8s-mesh$': '<rootDir>/src' },
    },
  },

  // jsii targets are declared (jsii validates the names) and proven on every build with
  // `jsii-pacmak --code-only`; packaging them needs PyPI/Maven/Go/.NET toolchains.
  publishToPypi: { distName: 'cdk8s-mesh', module: 'cdk8s_mesh' },
  publishToMaven: {
    javaPackage: 'dev.cdk8smesh',
    mavenGroupId: 'dev.cdk8s-mesh',
    mavenArtifactId: 'cdk8s-mesh',
  },
  publishToGo: { moduleName: 'github.com/cdk8s-mesh/cdk8s-mesh-go' },
  publishToNuget: { dotNetNamespace: 'Cdk8sMesh', packageId: 'Cdk8sMesh' },
});

// jsii 6 prints a large banner on Node 20 (end of life since 2026-10-30) and fetches its
// release list from GitHub on every call; neither helps a build on this machine.
project.tasks.addEnvironment('JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION', '20');
project.tasks.addEnvironment('JSII_SILENCE_SUPPORT_WARNING', '1');

// Only the npm package can be packaged on a machine without PyPI/Maven/Go/.NET; the other
// languages are generated as source so a broken binding name still fails the build.
const packageAll = project.tasks.tryFind('package-all')!;
packageAll.reset();
packageAll.spawn(project.tasks.tryFind('package:js')!);
project.packageTask.exec('jsii-pacmak --code-only -t python -t java -t go -t dotnet -o dist/code-only');

// Typed Istio bindings: generated from the Istio CRD bundle (v1 / storage versions only) and
// committed under src/imports. Run by hand when the Istio version changes.
project.addTask('import:istio', {
  description: 'Regenerate src/imports from the Istio CRDs (ISTIO_CRDS overrides the CRD file)',
  exec: 'ts-node --project projenrc/tsconfig.json projenrc/import-istio.ts',
});
project.eslint?.addIgnorePattern('src/imports/');

// The validation data (structural schemas and CEL rules of every kind the library writes or
// reads), generated from the CRDs and cdk8s-plus-27 into src/schemas/*.json and committed; the
// conformance tests check that it still equals what the CRDs yield.
project.addTask('import:schemas', {
  description: 'Regenerate src/schemas/*.json from the CRDs (MESH_CRDS_DIR, default ../shared/crds) and cdk8s-plus-27',
  exec: 'ts-node --project projenrc/tsconfig.json projenrc/import-schemas.ts',
});
// jsii compiles only TypeScript: the data files go beside the compiled validator.
project.compileTask.exec('node -e "const fs=require(\'fs\');fs.mkdirSync(\'lib/schemas\',{recursive:true});for(const f of fs.readdirSync(\'src/schemas\'))fs.copyFileSync(\'src/schemas/\'+f,\'lib/schemas/\'+f)"');
// Docs snippets import the package by its name, resolved through test/tsconfig.json's paths.
project.eslint?.addOverride({
  files: ['test/**/*.ts'],
  settings: { 'import/resolver': { node: {}, typescript: { project: './test/tsconfig.json', alwaysTryTypes: true } } },
} as any);
project.eslint?.addIgnorePattern('examples/*/dist/');
project.eslint?.addIgnorePattern('examples/*/imports/');

// ts-jest only transpiles (isolatedModules), so type-check tests, examples and docs snippets
// before running them: a misspelled property must fail, not be silently ignored.
project.tryFindObjectFile('test/tsconfig.json')?.addOverride('compilerOptions.paths', { 'cdk8s-mesh': ['../src'] });
project.testTask.prependExec('tsc --noEmit -p test/tsconfig.json', { name: 'typecheck tests, examples and docs snippets' });

project.addTask('docs:snippets', {
  description: 'Copy test/docs/snippets/*.ts into the Markdown fences that quote them',
  exec: 'ts-node --project projenrc/tsconfig.json projenrc/sync-snippets.ts',
});

project.addTask('docs:errors', {
  description: 'Write docs/errors.md from the error catalogue in src/errors.ts',
  exec: 'ts-node --transpile-only projenrc/errors-doc.ts',
});

project.addTask('docs:topology', {
  description: 'Render the bookinfo topology (Graphviz DOT from the analysis) to docs/bookinfo-topology.svg',
  exec: 'ts-node --transpile-only projenrc/render-topology.ts',
});

// Benchmarks and the long property run are commands, never part of the test task.
project.addTask('bench', {
  description: 'Benchmark synthesis and analysis at N = 100, 1,000 and 3,000 services; writes bench/results.json',
  exec: 'ts-node --transpile-only bench/run.ts',
  receiveArgs: true,
});
project.addTask('fuzz', {
  description: 'Property-based tests with 10,000 runs per property (the test task runs 200)',
  exec: 'jest --coverage=false --testPathPatterns test/properties',
  env: { FC_NUM_RUNS: '10000' },
  receiveArgs: true,
});

// Every example is a cdk8s app synthesized with the cdk8s CLI, as a user would.
const examples = project.addTask('examples', {
  description: 'Synthesize every cdk8s app under examples/ to its dist/ folder',
  shell: TaskShell.bash(),
  exec: 'shopt -s nullglob; for d in examples/*/; do echo "synth $d"; (cd "$d" && npx cdk8s synth --no-check-upgrade) || exit 1; done',
});
project.postCompileTask.spawn(examples);

// `manifests/` is what the render-in-CI workflow (docs/gitops.md) produces from examples/bookinfo.
project.gitignore.exclude('examples/*/dist/', '.jsii.tabl.json', '/manifests/');
project.npmignore?.exclude('examples/', 'bench/', 'docs/', '.ci/');

project.synth();
