/** The shape of the learned-propensity report the admin API serves and the dashboard and CLI print. */

export interface LearningPoint {
  at: number;
  trials: number;
  successes: number;
  mean: number;
  share: number;
}

export interface LearningRow {
  offer: string;
  context: string;
  outcome: string;
  trials: number;
  successes: number;
  priorMean: number;
  rate: number;
  interval: [number, number];
  share: number | null;
  history: LearningPoint[];
}

export interface LearningReport {
  /** When the learned state was built, or null with the reason it is not usable. */
  builtAt: number | null;
  problem: string | null;
  rows: LearningRow[];
}
