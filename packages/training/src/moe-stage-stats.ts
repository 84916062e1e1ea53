/** What a stage's MoE router did, for report.json: utilisation near the end of the stage and tokens dropped. */
export interface MoeStageStats {
  /** Per expert, the fraction of routed (token, expert) slots it got, mean over layers and the stage's last steps. */
  expertUtilisation: number[];
  /** Steps averaged into expertUtilisation. */
  overSteps: number;
  /** (token, expert) slots the capacity limit dropped over the whole stage. */
  dropped: number;
}

/** What a MoeStageTracker has collected so far, stored in a mid-stage checkpoint so a resumed stage reports the whole stage. */
export interface MoeTrackerState {
  recent: number[][];
  dropped: number;
}

/** Collects the `moe/*` step stats of an MoE LLM (see `withAuxLoss`); silent for a dense one. */
export class MoeStageTracker {
  private readonly recent: number[][] = [];
  private dropped = 0;

  constructor(private readonly window = 50) {}

  /** The tracker as it was at a checkpoint (`state()`), for a resumed stage. */
  static restore(state: MoeTrackerState | undefined): MoeStageTracker {
    const tracker = new MoeStageTracker();
    if (state) {
      tracker.recent.push(...state.recent.map((u) => [...u]));
      tracker.dropped = state.dropped;
    }
    return tracker;
  }

  state(): MoeTrackerState {
    return { recent: this.recent.map((u) => [...u]), dropped: this.dropped };
  }

  add(stats: Record<string, number> | undefined): void {
    if (!stats || stats['moe/expert_0'] === undefined) return;
    const utilisation: number[] = [];
    for (let k = 0; stats[`moe/expert_${k}`] !== undefined; k++) utilisation.push(stats[`moe/expert_${k}`]!);
    this.recent.push(utilisation);
    if (this.recent.length > this.window) this.recent.shift();
    this.dropped += stats['moe/dropped'] ?? 0;
  }

  result(): MoeStageStats | undefined {
    if (this.recent.length === 0) return undefined;
    const n = this.recent.length;
    const expertUtilisation = this.recent[0]!.map((_, k) => this.recent.reduce((a, u) => a + u[k]!, 0) / n);
    return { expertUtilisation, overSteps: n, dropped: this.dropped };
  }
}
