import { describe, expect, it } from "vitest";
import { AnomalyDetector } from "../../src/rcf/index.ts";
import { gaussian, lcg } from "./helpers.ts";

/** Issue 8: no anomaly grade before calibration; anomalies are never hidden behind an earlier episode. */
describe("calibration and episodes", () => {
  it("gives no anomaly grade while warming up, however extreme the point, and says when it is calibrated", () => {
    const detector = new AnomalyDetector(1, { forest: { seed: 3 } });
    const noise = gaussian(lcg(5));
    let firstCalibrated = -1;
    for (let i = 0; i < 800; i++) {
      // Huge spikes during the forest's fill (before 256) and during the grading's warm-up (256..356).
      const value = i % 97 === 50 ? 1000 : 10 + 0.1 * noise();
      const r = detector.process([value]);
      if (!r.calibrated) {
        expect(r.grade).toBe(0);
        expect(r.anomaly).toBe(false);
      } else if (firstCalibrated < 0) firstCalibrated = i;
    }
    // Forest sample full (256 points) plus the grading's warm-up of 100 scores.
    expect(firstCalibrated).toBeGreaterThanOrEqual(256 + 100 - 1);
    expect(firstCalibrated).toBeLessThan(400);
  });

  it("counts a spike 50 points after a false positive: anomalous with a grade, inside the open episode", () => {
    // The case: a flat 10 ± 0.1 series, a marginal outlier opens an episode, then a spike to 30.
    for (const seed of [1, 2, 3]) {
      const detector = new AnomalyDetector(1, { forest: { seed } });
      const noise = gaussian(lcg(seed + 10));
      for (let i = 0; i < 2000; i++) detector.process([10 + 0.1 * noise()]);
      let opened = -1;
      let step = 0;
      // Push outliers of growing size until one opens an episode (the stand-in for a false positive).
      for (let k = 1; k <= 40 && opened < 0; k++) {
        const r = detector.process([10 + 0.1 * (3 + 0.25 * k)]);
        step++;
        if (r.newEpisode) opened = step;
        for (let j = 0; j < 30 && opened < 0; j++, step++) detector.process([10 + 0.1 * noise()]);
      }
      expect(opened).toBeGreaterThan(0);
      for (let j = 0; j < 49; j++) detector.process([10 + 0.1 * noise()]);
      const spike = detector.process([30]);
      expect(spike.anomaly).toBe(true);
      expect(spike.grade).toBeGreaterThan(0);
      // Still inside the first episode's 150 points: it folds into it rather than starting a new alert.
      expect(spike.newEpisode).toBe(false);
    }
  });
});
