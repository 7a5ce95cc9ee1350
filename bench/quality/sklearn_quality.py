#!/usr/bin/python3
"""scikit-learn reference figures for the linear learners' quality targets
(issue 'learn and evaluate'), on the peers' split (split.py, seed 42) and
with the peers' preprocessing (../../../shared/peers/common.py: one-hot
object columns, StandardScaler numeric).

  sklearn_quality.py --peers DIR --work DIR --data DIR

Prints one JSON line per figure:
  bank_cv_auc       5-fold stratified CV AUC of LogisticRegression(max_iter
                    =1000) on the training part of the bank split
  hill_visit_auc    test AUC, Hillstrom visit (conversion, spend dropped)
  hill_spend_rmse   test RMSE of Ridge(alpha=1) on Hillstrom spend (visit,
                    conversion dropped)
  bank_job_macro_f1 test macro-F1 of multinomial LogisticRegression
                    predicting job (duration dropped), split stratified by job
"""
import argparse, json, os, sys
import numpy as np

a = argparse.ArgumentParser()
a.add_argument("--peers", required=True)
a.add_argument("--work", required=True)
args = a.parse_args()
sys.path.insert(0, args.peers)
import common as C  # noqa: E402
from sklearn.linear_model import LogisticRegression, Ridge  # noqa: E402
from sklearn.metrics import roc_auc_score, f1_score, mean_squared_error  # noqa: E402
from sklearn.model_selection import StratifiedKFold, cross_val_score  # noqa: E402
from sklearn.pipeline import make_pipeline  # noqa: E402

C.quiet_warnings()
W = args.work


def frames(train, test, sep, target, drop):
    tr = C.read_csv(os.path.join(W, train), sep)
    te = C.read_csv(os.path.join(W, test), sep)
    cols = [c for c in drop if c] + [target]
    return tr.drop(columns=cols), te.drop(columns=cols), tr[target], te[target]


# bank: 5-fold CV AUC on the training part
Xtr, Xte, ytr, yte = frames("bank.train.csv", "bank.test.csv", ";", "y",
                            ["duration"])
y = (ytr.astype(str) == "yes").astype(int).to_numpy()
pipe = make_pipeline(C.make_preprocessor(Xtr), LogisticRegression(max_iter=1000))
cv = StratifiedKFold(n_splits=5, shuffle=True, random_state=42)
s = cross_val_score(pipe, Xtr, y, cv=cv, scoring="roc_auc")
print(json.dumps({"figure": "bank_cv_auc", "mean": float(s.mean()),
                  "std": float(s.std(ddof=1))}))

# hillstrom visit
Xtr, Xte, ytr, yte = frames("hill.train.csv", "hill.test.csv", ",", "visit",
                            ["conversion", "spend"])
pipe = make_pipeline(C.make_preprocessor(Xtr), LogisticRegression(max_iter=1000))
pipe.fit(Xtr, ytr.astype(int))
auc = roc_auc_score(yte.astype(int), pipe.predict_proba(Xte)[:, 1])
print(json.dumps({"figure": "hill_visit_auc", "value": float(auc)}))

# hillstrom spend: Ridge
Xtr, Xte, ytr, yte = frames("hill.train.csv", "hill.test.csv", ",", "spend",
                            ["visit", "conversion"])
pipe = make_pipeline(C.make_preprocessor(Xtr), Ridge(alpha=1.0))
pipe.fit(Xtr, ytr.astype(float))
rmse = float(np.sqrt(mean_squared_error(yte.astype(float), pipe.predict(Xte))))
print(json.dumps({"figure": "hill_spend_rmse", "value": rmse}))

# bank job: multinomial logistic regression
Xtr, Xte, ytr, yte = frames("job.train.csv", "job.test.csv", ";", "job",
                            ["duration"])
pipe = make_pipeline(C.make_preprocessor(Xtr),
                     LogisticRegression(max_iter=1000))
pipe.fit(Xtr, ytr.astype(str))
f1 = f1_score(yte.astype(str), pipe.predict(Xte), average="macro")
print(json.dumps({"figure": "bank_job_macro_f1", "value": float(f1)}))
