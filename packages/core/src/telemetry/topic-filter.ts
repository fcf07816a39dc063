/**
 * MQTT topic helpers with AWS IoT SQL semantics: `topic(n)` is 1-based and returns the n-th `/`-separated
 * segment (undefined when there is none); filters use `+` (one segment) and a trailing `#`.
 */
export function topicSegments(topic: string): string[] {
  return topic.split("/");
}

/** IoT SQL `topic(n)`: the n-th segment, 1-based; `topic(0)`/no argument is the whole topic. */
export function topicSegment(topic: string, n: number): string | undefined {
  if (n === 0) return topic;
  return topicSegments(topic)[n - 1];
}

export function matchesTopicFilter(filter: string, topic: string): boolean {
  const f = filter.split("/");
  const t = topicSegments(topic);
  for (let i = 0; i < f.length; i++) {
    if (f[i] === "#") return true;
    if (i >= t.length) return false;
    if (f[i] !== "+" && f[i] !== t[i]) return false;
  }
  return f.length === t.length;
}
