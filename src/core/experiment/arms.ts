// The ablation matrix: which students the experiment trains and evaluates, named as the report
// names them. `base` is the student as it is; the others are LoRA runs of codistill.yaml's
// training section that differ in one thing each, so the report's deltas say what each thing
// is worth:
//   sft-code        the code only (no reasoning), plain SFT (α = 1, β = 0);
//   sft-cot         the teacher's reasoning before the code, plain SFT;
//   sft-cot-struct  the reasoning, and α·CE + β·L_struct under the configured curriculum;
//   sft-cot-struct-r<N>    the same at LoRA rank N (experiment.ranks);
//   sft-cot-struct@<set>   the same on another CoT set, e.g. another teacher's (experiment.teachers).
import type { ExperimentConfig } from "./config";
import type { TrainingFormValues } from "../training/launch";
import { formDefaults } from "../training/launch";

export interface ArmPlan {
  name: string;
  /** False for base. */
  trains: boolean;
  /** The CoT sets it trains on (none: code only). */
  cotSets: string[];
  /** Whether β follows the curriculum (else α = 1 and β = 0 throughout). */
  structural: boolean;
  loraPreset?: TrainingFormValues["loraPreset"];
  description: string;
}

/** The arms of `config`, in the report's order; `problems` says what keeps an arm from running, naming the field. */
export function planArms(config: ExperimentConfig): { arms: ArmPlan[]; problems: string[] } {
  const { arms: names, ranks, teachers } = config.experiment;
  const cots = config.training?.cots ?? [];
  const problems: string[] = [];
  const arms: ArmPlan[] = [];
  const trainsAny = names.some((name) => name !== "base") || ranks.length > 0 || teachers.length > 0;
  if (trainsAny && !config.training) problems.push("training: the experiment's training arms need a training section (datasets, steps, LoRA, curriculum)");
  if (!config.student) problems.push("student.model: the experiment needs a student");
  const needsCots = names.some((name) => name === "sft-cot" || name === "sft-cot-struct") || ranks.length > 0;
  if (needsCots && cots.length === 0) problems.push("training.cots: the sft-cot arms train on the teacher's reasoning: name a CoT set (cots: declares how the experiment writes one)");
  const structural = names.includes("sft-cot-struct") || ranks.length > 0 || teachers.length > 0;
  if (structural && !config.encoder) problems.push("encoder.model: the sft-cot-struct arms need the encoder of the structural loss");
  if (structural && config.training && !curriculumHasBeta(config)) {
    problems.push("training.curriculum: beta_start and beta_end are both 0, so sft-cot-struct would be sft-cot: give β a value above 0");
  }
  const preset = formDefaults(config).loraPreset;
  for (const name of names) {
    if (name === "base") arms.push({ name, trains: false, cotSets: [], structural: false, description: "the student as it is, no fine-tuning" });
    if (name === "sft-code") arms.push({ name, trains: true, cotSets: [], structural: false, description: `SFT on the code only (α = 1, β = 0), LoRA ${preset}` });
    if (name === "sft-cot") arms.push({ name, trains: true, cotSets: cots, structural: false, description: `SFT on reasoning + code from ${cots.join(", ")} (α = 1, β = 0), LoRA ${preset}` });
    if (name === "sft-cot-struct") arms.push(structuralArm(name, cots, `LoRA ${preset}`));
  }
  for (const rank of ranks) {
    const rankPreset = `r${rank}` as TrainingFormValues["loraPreset"];
    arms.push({ ...structuralArm(`sft-cot-struct-r${rank}`, cots, `LoRA rank ${rank}`), loraPreset: rankPreset });
  }
  for (const set of teachers) arms.push(structuralArm(`sft-cot-struct@${set}`, [set], `LoRA ${preset}, CoT set ${set}`));
  return { arms, problems };
}

function structuralArm(name: string, cotSets: string[], what: string): ArmPlan {
  return { name, trains: true, cotSets, structural: true, description: `SFT on reasoning + code from ${cotSets.join(", ")} with α·CE + β·L_struct under the curriculum, ${what}` };
}

function curriculumHasBeta(config: ExperimentConfig): boolean {
  const { betaStart, betaEnd } = formDefaults(config).curriculum;
  return betaStart > 0 || betaEnd > 0;
}

/** The training form of an arm: codistill.yaml's, with the arm's CoT sets, rank and loss. */
export function armForm(config: ExperimentConfig, arm: ArmPlan): TrainingFormValues {
  const form = formDefaults(config);
  form.cotSets = [...arm.cotSets];
  if (arm.loraPreset) form.loraPreset = arm.loraPreset;
  if (!arm.structural) {
    // Plain SFT: the token loss alone at full weight, and no encoder to load.
    form.curriculum = { ...form.curriculum, alphaStart: 1, alphaEnd: 1, betaStart: 0, betaEnd: 0 };
    form.encoder = "";
  }
  return form;
}
