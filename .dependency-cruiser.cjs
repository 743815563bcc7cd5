/**
 * The layer rules of docs/ARCHITECTURE.md ("Layers"), checked by `npm run deps` (part of `npm test`).
 * Commands -> library modules -> lib: nothing imports a command, the governor takes peers as data,
 * net takes name resolution as a parameter, sources and resolvers return data and never render.
 * No exceptions: a temporary one would be a named `pathNot` here, with the task removing it.
 */

/** Library modules: everything under src/ but the commands, the base command and the oclif hooks. */
const LIBRARY = '^src/(config|dns|driver|governor|lib|metrics|net|node|probe|registry|sim|simulation|topology|ui)/';

module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      severity: 'error',
      comment: 'modules form no import cycle that runs (a cycle through a type-only import is erased by tsc)',
      from: { path: '^src/' },
      to: { circular: true, viaOnly: { dependencyTypesNot: ['type-only'] } },
    },
    {
      name: 'nothing-imports-commands',
      severity: 'error',
      comment: 'commands are the top layer: nothing imports them (shared code goes to a library module)',
      from: { path: '^src/', pathNot: '^src/commands/' },
      to: { path: '^src/commands/' },
    },
    {
      name: 'only-commands-import-base-command',
      severity: 'error',
      comment: 'the base command is the CLI shell of the commands; library code does not depend on it',
      from: { path: LIBRARY },
      to: { path: '^src/base-command[.][jt]s$' },
    },
    {
      name: 'lib-imports-only-lib',
      severity: 'error',
      comment: 'src/lib is the bottom layer: it imports nothing else from src',
      from: { path: '^src/lib/' },
      to: { path: '^src/', pathNot: '^src/lib/' },
    },
    {
      name: 'governor-imports-only-governor-and-lib',
      severity: 'error',
      comment: 'the governor is pure and takes peers as data: no registry, net, dns, ui, topology, config',
      from: { path: '^src/governor/' },
      to: { path: '^src/', pathNot: '^src/(governor|lib)/' },
    },
    {
      name: 'event-kernel-imports-only-lib',
      severity: 'error',
      comment: 'the event kernel (src/sim/scheduler.ts) knows nothing of what it simulates',
      from: { path: '^src/sim/scheduler[.][jt]s$' },
      to: { path: '^src/', pathNot: '^src/lib/' },
    },
    {
      name: 'config-imports-only-config-and-lib',
      severity: 'error',
      comment: 'the node configuration is data; the governor, net and the commands read it, not the other way round',
      from: { path: '^src/config/' },
      to: { path: '^src/', pathNot: '^src/(config|lib)/' },
    },
    {
      name: 'net-not-dns-registry-ui',
      severity: 'error',
      comment: 'net takes name resolution as a parameter and renders nothing',
      from: { path: '^src/net/' },
      to: { path: '^src/(dns|registry|ui)/' },
    },
    {
      name: 'library-does-not-render',
      severity: 'error',
      comment: 'sources, resolvers and domain code return data; rendering is src/ui or the commands',
      from: { path: '^src/(config|dns|driver|governor|lib|metrics|net|node|probe|registry|sim|simulation|topology)/' },
      to: { path: '^src/ui/' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
  },
};
