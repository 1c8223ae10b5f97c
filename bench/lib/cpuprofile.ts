// Summarises a V8 .cpuprofile (node --cpu-prof): where the samples were spent, by package
// (self time) and by function (self and inclusive time), to say where a server's time goes.

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
}

interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  children?: number[];
}

export interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

/** "pg-protocol", "@prisma/client", "node:internal", "app", "(idle)"... */
export function packageOf(frame: CallFrame): string {
  const { url, functionName } = frame;
  if (!url) return functionName.startsWith("(") ? functionName : "(native)";
  if (url.startsWith("node:")) return "node:internal";
  const inModules = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (inModules) {
    // The last node_modules segment names the package that owns the code.
    const all = [...url.matchAll(/node_modules\/((?:@[^/]+\/)?[^/]+)/g)];
    return all[all.length - 1][1];
  }
  if (url.includes("/build/server/")) return "app (server build)";
  return url.replace(/^file:\/\//, "");
}

function frameLabel(frame: CallFrame): string {
  const file = frame.url.replace(/^file:\/\//, "").replace(/^.*node_modules\//, "").replace(/^.*\/build\//, "build/");
  return `${frame.functionName || "(anonymous)"} ${file ? `${file}:${frame.lineNumber + 1}` : ""}`.trim();
}

export function summarizeCpuProfile(profile: CpuProfile, top = 20): string {
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const parent = new Map<number, number>();
  for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id);
  const selfUs = new Map<number, number>();
  profile.samples.forEach((id, index) => selfUs.set(id, (selfUs.get(id) ?? 0) + (profile.timeDeltas[index] ?? 0)));
  const total = profile.endTime - profile.startTime;

  const packages = new Map<string, number>();
  const selfByFunction = new Map<string, number>();
  const inclusive = new Map<string, number>();
  // A sample counts once for every package on its stack: the time spent in or under it.
  const packagesInclusive = new Map<string, number>();
  for (const [id, us] of selfUs) {
    const node = byId.get(id);
    if (!node) continue;
    const pkg = packageOf(node.callFrame);
    packages.set(pkg, (packages.get(pkg) ?? 0) + us);
    const label = frameLabel(node.callFrame);
    selfByFunction.set(label, (selfByFunction.get(label) ?? 0) + us);
    const seen = new Set<string>();
    const seenPackages = new Set<string>();
    for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
      const frame = byId.get(at)?.callFrame;
      if (!frame) break;
      const name = frameLabel(frame);
      const owner = packageOf(frame);
      if (!seenPackages.has(owner)) {
        seenPackages.add(owner);
        packagesInclusive.set(owner, (packagesInclusive.get(owner) ?? 0) + us);
      }
      if (seen.has(name)) continue;
      seen.add(name);
      inclusive.set(name, (inclusive.get(name) ?? 0) + us);
    }
  }
  const pct = (us: number) => `${((100 * us) / total).toFixed(1).padStart(5)}%`;
  const list = (map: Map<string, number>, n: number) =>
    [...map.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, n)
      .map(([name, us]) => `  ${pct(us)}  ${(us / 1000).toFixed(0).padStart(7)} ms  ${name}`)
      .join("\n");
  const interesting = new Map(
    [...inclusive.entries()].filter(([name]) =>
      /receiveWebhook|validate|storeDelivery|enqueueIngest|classifyBody|readBodyWithin|createRequestHandler|requestHandler|logger|compression|queryRaw|addJob|JSON\.parse|safeParse|createRemixRequest|sendRemixResponse|matchRoutes/i.test(name),
    ),
  );
  return [
    `profile: ${(total / 1e6).toFixed(1)} s wall`,
    "self time by package:",
    list(packages, 15),
    "inclusive time by package (in or below it):",
    list(packagesInclusive, 15),
    "self time by function:",
    list(selfByFunction, top),
    "inclusive time of intake steps:",
    list(interesting, top),
  ].join("\n");
}
