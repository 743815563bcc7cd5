/**
 * The layer rules of docs/ARCHITECTURE.md ("Layers"), checked by `npm run deps` (part of `npm test`).
 * Commands -> library modules -> lib: nothing imports a command, the governor takes peers as data,
 * net takes name resolution as a parameter, sources and resolvers return data and never render.
 *
 * TEMPORARY exceptions are listed by name in `temporary` below, each with the task removing it;
 * delete the entry when the import is gone (an entry that no longer matches anything is harmless,
 * but keep the list true).
 */
const temporary = {
  // "net" (issue 11): ping takes name resolution as a parameter instead of importing src/dns.
  netDns: '^src/net/ping[.][jt]s$',
  // "net" (issue 11): the probe renderer moves out of src/probe (to src/ui or next to its command).
  probeUi: '^src/probe/render[.][jt]s$',
};

/** Library modules: everything under src/ but the commands, the base command and the oclif hooks. */
const LIBRARY = '^src/(config|dns|driver|governor|lib|net|node|probe|registry|sim|topology|ui)/';

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
      from: { path: '^src/net/', pathNot: temporary.netDns },
      to: { path: '^src/(dns|registry|ui)/' },
    },
    {
      name: 'net-temporary-dns-only',
      severity: 'error',
      comment: 'the temporary net exception allows src/dns, nothing else',
      from: { path: temporary.netDns },
      to: { path: '^src/(registry|ui)/' },
    },
    {
      name: 'library-does-not-render',
      severity: 'error',
      comment: 'sources, resolvers and domain code return data; rendering is src/ui or the commands',
      from: {
        path: '^src/(config|dns|driver|governor|lib|net|node|probe|registry|sim|topology)/',
        pathNot: temporary.probeUi,
      },
      to: { path: '^src/ui/' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
  },
};
