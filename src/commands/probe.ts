import { Args, Flags } from '@oclif/core';
import { Chalk } from 'chalk';
import { SpoCommand } from '../base-command.js';
import { dnsServerFlags } from '../dns/flags.js';
import { parseDnsServer } from '../dns/resolv-conf.js';
import { writeFileAtomic } from '../lib/atomic-write.js';
import { parseDuration } from '../lib/duration.js';
import { ExitCode, UsageError } from '../lib/errors.js';
import { checkOutputPath } from '../lib/output-path.js';
import { counted } from '../lib/plural.js';
import type { FailOn } from '../probe/aggregate.js';
import { effectiveConcurrency } from '../probe/limits.js';
import { type ProbeRun, planProbe, runProbe } from '../probe/run.js';
import type { RetryPolicy } from '../probe/scheduler.js';
import { poolSelectionFlags, registryFlags, registryOptions } from '../registry/flags.js';
import type { Pool } from '../registry/model.js';
import { palette } from '../ui/color.js';
import { type ProbeJson, renderProbeCsv, renderProbeTable, summaryText } from '../ui/probe-report.js';
import { loadRegistryWithProgress } from '../ui/registry-progress.js';

export interface ProbeCommandJson extends ProbeJson {
  verdict: { failOn: FailOn; failed: boolean; reason?: string };
  /** Set when Ctrl-C/SIGTERM stopped the run: only what was probed before it is reported (exit 130). */
  interrupted?: true;
}

export default class Probe extends SpoCommand {
  static override summary = 'Probe relays over the node-to-node handshake: who is reachable, how fast, how far behind.';
  static override description =
    `Probes every relay of the registry, of chosen pools (--pool, --ticker, --top), or the addresses given as arguments. Each relay is resolved (every A/AAAA address of a name; an SRV name by the node's CIP-0155 rule, --whole-group for every target), then each address goes through TCP connect, the node-to-node handshake (versions and network magic checked), --samples keep-alive round trips and, with --tip, the tip by chain-sync with its slot lag against a reference (the highest tip among the majority of the relays, or Koios /tip with --reference koios).

Attempts run --concurrency at a time (default 2000, capped by the open-file limit), so a mainnet-sized registry takes about one --timeout plus a little. --timeout applies to each stage and really ends the attempt. Timeouts are retried at a lower concurrency when the run shows signs of local congestion (--retry auto), always, or never.

Every address is reported with a status: ok, or the failure and its stage (DNS_NXDOMAIN, CONNECT_REFUSED, CONNECT_TIMEOUT, HANDSHAKE_TIMEOUT, HANDSHAKE_REFUSED_MAGIC, HANDSHAKE_REFUSED_VERSION, PROTOCOL_ERROR, KEEPALIVE_TIMEOUT...); relays and pools are summarised ("2 of 3 relays reachable"). Registered addresses that cannot be public peers (loopback, private, link-local, unspecified...), and the addresses a registered name resolves to that cannot either, are reported as UNUSABLE_ADDRESS and not probed (probing 127.0.0.1 reaches your own machine), unless --include-unusable. Addresses given as arguments are probed as given.

Exit code 1 follows --fail-on: any (an address failed), pool (a pool has no reachable relay), none. Default: any when addresses are given, pool when pools are chosen with --pool/--ticker, none for the whole registry or --top. To monitor a pool with an SRV relay, add --whole-group: the node's rule draws one target per run, so a single dead target would alert only on some runs.

Ctrl-C reports what was probed so far, marked as partial (never written over --out), and exits 130; a second Ctrl-C leaves at once.`;
  static override examples = [
    '<%= config.bin %> probe relay1.example.com:3001 [2001:db8::1]:3001',
    '<%= config.bin %> probe --pool pool1abc... --fail-on pool   # from cron: exit 1 when my pool is unreachable',
    '<%= config.bin %> probe --top 100 --tip',
    '<%= config.bin %> probe --source koios --network preprod --csv --out probe.csv',
    '<%= config.bin %> probe _cardano._tcp.relays.example.com --whole-group --json',
  ];
  static override strict = false;
  static override args = {
    address: Args.string({ description: 'addresses to probe: HOST:PORT, [IPv6]:PORT, a name, or an SRV name (_...)' }),
  };
  static override flags = {
    ...registryFlags,
    ...poolSelectionFlags,
    ...dnsServerFlags,
    concurrency: Flags.integer({
      description: 'attempts in flight at once (default 2000, capped by ulimit -n)',
      min: 1,
      max: 100_000,
    }),
    timeout: Flags.string({
      description: 'timeout of each stage: connect, handshake, each keep-alive, tip',
      default: '5s',
      helpValue: 'DURATION',
    }),
    samples: Flags.integer({
      description: 'keep-alive round trips per address (0: handshake only)',
      default: 3,
      min: 0,
      max: 100,
    }),
    tip: Flags.boolean({ description: 'ask each relay its tip (chain-sync) and report its slot lag' }),
    reference: Flags.string({
      description: 'reference tip for the slot lag: peers (majority of the relays) or koios (/tip, online)',
      options: ['peers', 'koios'],
      default: 'peers',
    }),
    retry: Flags.string({
      description: 'retry timeouts at a lower concurrency: auto (when the run shows congestion), always, never',
      options: ['auto', 'always', 'never'],
      default: 'auto',
    }),
    'dns-timeout': Flags.string({
      description: 'timeout of each DNS query, per server',
      default: '3s',
      helpValue: 'DURATION',
    }),
    'whole-group': Flags.boolean({
      description: 'SRV: probe every target of the lowest priority group, not the one the node would draw',
    }),
    'include-unusable': Flags.boolean({
      description:
        'also probe registry addresses that cannot be public peers (loopback, private...), registered so or resolved from a name',
    }),
    // Not `exclusive: ['json']`: oclif's message for that is a bare "The following error occurred:".
    csv: Flags.boolean({ description: 'CSV output, one row per address (not with --json)' }),
    out: Flags.string({
      description: 'write the output (table, --csv or --json) to this file, atomically (- for standard output)',
    }),
    'fail-on': Flags.string({
      description: 'exit 1 when: any address failed, a pool has no reachable relay, or never',
      options: ['any', 'pool', 'none'],
    }),
  };

  async run(): Promise<ProbeCommandJson> {
    const { argv, flags } = await this.parse(Probe);
    const args = (argv as string[]).map((a) => a.trim()).filter((a) => a !== '');
    if (flags.csv && this.jsonEnabled()) {
      throw new UsageError('USAGE', '--csv and --json cannot be used together', {
        hint: 'choose one: --json for the whole document, --csv for one row per address',
      });
    }
    // A probe can take minutes: a --out that cannot be written must fail now, not after it.
    if (flags.out && flags.out !== '-') await checkOutputPath(flags.out);
    const stageTimeoutMs = parseDuration(flags.timeout, '--timeout');
    const dnsTimeoutMs = parseDuration(flags['dns-timeout'], '--dns-timeout');
    if (stageTimeoutMs <= 0 || dnsTimeoutMs <= 0) {
      throw new UsageError('BAD_DURATION', 'timeouts must be positive', { hint: 'e.g. --timeout 5s --dns-timeout 3s' });
    }
    const koiosUrl = flags.tip && flags.reference === 'koios' ? this.koiosUrl(flags['koios-url']) : undefined;
    const choosesPools = (flags.pool?.length ?? 0) > 0 || (flags.ticker?.length ?? 0) > 0;
    const useRegistry = args.length === 0 || choosesPools || flags.top !== undefined || flags.source !== 'embedded';
    const conc = effectiveConcurrency(flags.concurrency);
    if (conc.capped)
      this.note(`--concurrency lowered to ${conc.value}: the open-file limit (ulimit -n) is too low for more`);

    const progress = this.progress();
    let registry: { pools: Pool[]; source: string } | undefined;
    if (useRegistry) {
      const reg = await loadRegistryWithProgress(registryOptions(flags, this.network, this.signal), progress);
      // Probing with the wrong magic would only collect HANDSHAKE_REFUSED_MAGIC: say why up front.
      for (const f of reg.findings) if (f.code === 'network-mismatch') this.note(f.message);
      registry = { pools: reg.pools, source: reg.source };
    }
    const defaultPort = this.network.preset?.defaultPort ?? 3001;
    const plan = planProbe({
      args,
      defaultPort,
      registry,
      selection: { pools: flags.pool, tickers: flags.ticker, top: flags.top },
      includeUnusable: flags['include-unusable'],
    });
    const failOn = (flags['fail-on'] as FailOn | undefined) ?? plan.failOn;
    const samples = flags.samples;
    const tip = Boolean(flags.tip);
    const retry = flags.retry as RetryPolicy;
    const relays = plan.targets.length;
    let lastUpdate = 0;
    progress.start(`probing ${counted(relays, 'relay')}, up to ${Math.min(conc.value, relays)} at a time`);
    let run: ProbeRun;
    try {
      run = await runProbe(plan, {
        magic: this.network.magic,
        dnsServers: (flags['dns-server'] ?? []).map(parseDnsServer),
        dnsTimeoutMs,
        family: flags['ipv4-only'] ? 'ipv4' : flags['ipv6-only'] ? 'ipv6' : 'both',
        defaultPort,
        wholeGroup: flags['whole-group'],
        stageTimeoutMs,
        samples,
        tip,
        concurrency: flags.concurrency,
        retry,
        failOn,
        koios: koiosUrl === undefined ? undefined : { url: koiosUrl, token: flags['koios-token'] },
        signal: this.signal,
        onNote: (text) => this.note(text),
        onProgress: (p) => {
          const now = performance.now();
          if (now - lastUpdate < 100) return;
          lastUpdate = now;
          progress.update(
            `${p.phase === 'retry' ? `retrying ${counted(p.retrying, 'timeout')}; ` : ''}${counted(p.done, 'address', 'addresses')} of ${p.relays}/${counted(relays, 'relay')}: ${p.ok} ok, ${p.failed} failed, ${p.inFlight} in flight`,
          );
        },
      });
    } catch (error) {
      progress.fail('probe stopped');
      throw error;
    }
    const { report, interrupted } = run;
    const s = report.summary;
    // Ctrl-C (or SIGTERM) during the probe: what was probed is reported, marked as partial, and the
    // exit code is still 130; a second Ctrl-C leaves at once.
    if (interrupted)
      progress.fail(`interrupted: reporting the ${counted(s.addresses, 'address', 'addresses')} probed so far`);
    else progress.succeed(`probed ${counted(s.addresses, 'address', 'addresses')}: ${s.ok} ok, ${s.failed} failed`);

    const reason = run.verdict.reason;
    const doc: ProbeCommandJson = {
      network: this.network.name,
      magic: this.network.magic,
      source: registry?.source ?? 'arguments',
      options: { concurrency: run.concurrency, timeoutMs: stageTimeoutMs, samples, tip, retry },
      summary: report.summary,
      ...(report.reference ? { reference: report.reference } : {}),
      pools: report.pools,
      addresses: report.addresses,
      verdict: run.verdict,
      ...(interrupted ? { interrupted: true } : {}),
    };

    const text = (c: typeof this.c): string => (flags.csv ? renderProbeCsv(report) : renderProbeTable(report, c, tip));
    if (interrupted) {
      // A partial run is shown, never written over --out (a file that cron or a script reads keeps its
      // last complete run); the JSON says `"interrupted": true`.
      if (flags.csv) process.stdout.write(renderProbeCsv(report));
      else this.out(text(this.c));
      process.exitCode = ExitCode.interrupted;
      if (!this.jsonEnabled()) {
        const notWritten = flags.out && flags.out !== '-' ? `; ${flags.out} was not written` : '';
        process.stderr.write(
          `${this.stderrPalette().fail('spo:')} interrupted: the results above are partial (${counted(s.addresses, 'address', 'addresses')} probed before Ctrl-C)${notWritten}\n`,
        );
      }
      return doc;
    }
    if (flags.out && flags.out !== '-') {
      const plain = palette(new Chalk({ level: 0 }));
      const content = this.jsonEnabled() ? `${JSON.stringify(doc, null, 2)}\n` : text(plain);
      await writeFileAtomic(flags.out, content.endsWith('\n') ? content : `${content}\n`);
      this.out(summaryText(report, this.c));
      if (!this.jsonEnabled()) process.stderr.write(`${this.stderrPalette().dim(`written to ${flags.out}`)}\n`);
    } else if (flags.csv) {
      process.stdout.write(renderProbeCsv(report));
    } else {
      this.out(text(this.c));
    }
    if (reason !== undefined) {
      process.exitCode = ExitCode.failed;
      if (!this.jsonEnabled())
        process.stderr.write(`${this.stderrPalette().fail('spo:')} probe: ${reason} (--fail-on ${failOn})\n`);
    }
    return doc;
  }

  /** Checked before probing: a custom network has no Koios preset. */
  private koiosUrl(flag: string | undefined): string {
    const url = flag ?? this.network.preset?.koiosUrl;
    if (!url) throw new UsageError('USAGE', '--reference koios needs --koios-url for a custom network');
    return url;
  }
}
