// Where the etcd registry keeps what, under its prefix: Dubbo's layout, as its ZooKeeper registry and
// Dubbo's own etcd registry lay it out, so that tools listing keys read it alike.
//
//   <prefix>/dubbo/<service>/providers/<encodeURIComponent(provider URL)>   = the provider URL (on the lease)
//   <prefix>/dubbo/<service>/consumers/<encodeURIComponent(consumer URL)>   = the consumer URL (on the lease)
//   <prefix>/dubbo/config/dubbo/<rule key>.<kind>                           = the rule's YAML (no lease)
import { createHash } from 'node:crypto';
import { basename, join } from 'node:path';
import { Code } from '../core/code.js';
import { RpcError } from '../core/rpc-error.js';
import { userBaseDir } from './private-files.js';
import { applicationId } from './zookeeper-cache.js';

export class EtcdLayout {
  /** `<prefix>/dubbo`. */
  readonly root: string;

  /** `prefix`: '' or a path such as `/team-a` that every key starts with. */
  constructor(readonly prefix: string) {
    if (prefix !== '' && !/^(\/[^/]+)+$/.test(prefix)) {
      throw new RpcError(Code.INVALID_ARGUMENT, `invalid etcd prefix ${JSON.stringify(prefix)}: use '' or a path such as /team-a, without a trailing /`);
    }
    this.root = `${prefix}/dubbo`;
  }

  /** The folder of traffic rules by default: `<prefix>/dubbo/config/dubbo`, where Dubbo's config center keeps them. */
  get defaultRulesFolder(): string {
    return `${this.root}/config/dubbo`;
  }

  /** `<root>/<service>/<category>/` (the trailing `/` keeps `a.B` apart from `a.BC`). */
  folder(service: string, category: 'providers' | 'consumers'): string {
    return `${this.root}/${service}/${category}/`;
  }

  entryKey(service: string, category: 'providers' | 'consumers', url: string): string {
    return `${this.folder(service, category)}${encodeURIComponent(url)}`;
  }

  /** The URL an entry's key holds (its last segment, decoded). */
  entryUrl(key: string): string {
    const last = key.slice(key.lastIndexOf('/') + 1);
    try {
      return decodeURIComponent(last);
    } catch {
      return last;
    }
  }

  /**
   * The service names that keys under the root stand for (`<root>/<service>/<category>/<entry>`),
   * sorted, leaving out the rule folder's top segment (`config`), as no service.
   */
  serviceNames(keys: readonly string[], rulesFolder: string): string[] {
    const rulesTop = rulesFolder.startsWith(`${this.root}/`) ? rulesFolder.slice(this.root.length + 1).split('/')[0] : undefined;
    const names = new Set<string>();
    for (const key of keys) {
      if (!key.startsWith(`${this.root}/`)) continue;
      const segments = key.slice(this.root.length + 1).split('/');
      if (segments.length < 3 || segments[0] === rulesTop) continue;
      names.add(segments.slice(0, -2).join('/'));
    }
    return [...names].sort();
  }

  /**
   * `<os.tmpdir()>/switchyard-<uid>/etcd-cache/<app>-<hosts + prefix>-<hash>.json`: private to the
   * user, and to the application (its main script) and etcd it serves, as the ZooKeeper registry's.
   */
  defaultCacheFile(hosts: readonly string[], app = applicationId()): string {
    const where = hosts.join(',') + this.prefix;
    const slug = (text: string) => text.replace(/[^\w.-]+/g, '_').slice(0, 48);
    const label = basename(app).replace(/\.[cm]?[jt]s$/, '');
    const hash = createHash('sha256').update(`${app}\0etcd\0${where}`).digest('hex').slice(0, 12);
    return join(userBaseDir(), 'etcd-cache', `${slug(label)}-${slug(where)}-${hash}.json`);
  }
}

/** A rule folder: an absolute key path of non-empty segments, without a trailing `/`. */
export function checkRulesFolder(path: string): string {
  if (!/^(\/[^/]+)+$/.test(path) || path.split('/').some((part) => part === '.' || part === '..')) {
    throw new RpcError(Code.INVALID_ARGUMENT, `invalid rulesPath ${JSON.stringify(path)}: use an absolute path such as /dubbo/config/dubbo`);
  }
  return path;
}
