"""Stage 8, maintenance: the retraining dataset, challengers vs the champion, policies, the runner.

- :mod:`~mlcore.maintain.weights`: importance weights of every historical row for the current
  concept (a cross-fitted domain classifier), with their effective sample size;
- :mod:`~mlcore.maintain.challengers`: train challengers (weighted, sliding, expanding) with the
  champion's plan and model, compare them with the champion on the same recent window against
  the goal (paired bootstrap), and a :class:`RetrainReport`;
- :mod:`~mlcore.maintain.policy`, :mod:`~mlcore.maintain.maintainer`: when to retrain (schedule,
  drift, performance drop), promotion through the registry, rollback, the decision log;
- :mod:`~mlcore.maintain.spec`, :mod:`~mlcore.maintain.runner`: the pipeline spec (TOML) and
  ``mlcore run``, stage by stage, resumable, every artifact with its lineage.

Imported lazily: ``mlcore maintain --help`` does not pay for scikit-learn or Numba.
"""

from .._lazy import lazy_exports

_EXPORTS = {
    "weights": ["ImportanceWeights", "importance_weights", "effective_sample_size"],
    "model_spec": ["ModelSpec", "ESTIMATORS", "make_estimator"],
    "challengers": ["WINDOWS", "Candidate", "ModelComparison", "RetrainReport", "compare_models", "retrain",
                "split_window", "train_challengers", "report_html"],
    "policy": ["Observation", "Trigger", "Policy", "SchedulePolicy", "DriftPolicy", "PerformancePolicy", "AlertPolicy",
               "policy_from_dict", "POLICY_KINDS"],
    "decisions": ["DecisionLog", "DECISION_KINDS", "read_decisions"],
    "maintainer": ["Maintainer", "rollback"],
    "observe": ["WindowObservation", "observe_window", "training_window"],
    "spec": ["PipelineSpec", "SpecError", "load_spec"],
    "runner": ["run_pipeline", "RunResult", "StageResult", "STAGES", "read_lineage"],
}
__all__, __getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
