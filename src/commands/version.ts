import { SpoCommand } from '../base-command.js';

export default class Version extends SpoCommand {
  static override summary = 'Print the spo version and the runtime it runs on.';
  static override examples = ['<%= config.bin %> version', '<%= config.bin %> version --json'];

  async run(): Promise<{ name: string; version: string; node: string; platform: string }> {
    const info = {
      name: this.config.name,
      version: this.config.version,
      node: process.version,
      platform: `${process.platform}-${process.arch}`,
    };
    this.out(`${info.name}/${info.version} ${info.platform} node-${info.node}`);
    return info;
  }
}
