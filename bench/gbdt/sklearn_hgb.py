#!/usr/bin/python3
"""Peer: scikit-learn HistGradientBoostingClassifier(max_iter=200,
max_depth=6, learning_rate=0.1, max_leaf_nodes=None, early_stopping=False)
on the preprocessing of the XGBoost peer (categorical columns one-hot
encoded, numeric columns raw, dense), so both peers fit the same matrix.
Threads: OpenMP, capped by OMP_NUM_THREADS (the bench sets 2). Same
arguments and one JSON line as every script of ../shared/peers
(common.py)."""
import time
T0 = time.perf_counter()
import os, sys
sys.path.insert(0, os.environ.get("LIFT_PEERS", os.path.join(
    os.path.dirname(os.path.abspath(__file__)), "..", "..", "..", "shared",
    "peers")))
import common as C
import sklearn
from sklearn.ensemble import HistGradientBoostingClassifier


def main():
    args = C.parse_args(__doc__, lambda p: (
        p.add_argument("--n-estimators", type=int, default=200),
        p.add_argument("--max-depth", type=int, default=6),
        p.add_argument("--lr", type=float, default=0.1)))
    C.quiet_warnings()
    clock = C.Clock(T0)
    d = C.load(args)
    A_tr, A_te, prep_s, _ = C.preprocess(args, d, scale=False, dense=True)
    m = HistGradientBoostingClassifier(
        max_iter=args.n_estimators, max_depth=args.max_depth,
        learning_rate=args.lr, max_leaf_nodes=None, early_stopping=False,
        random_state=args.seed)
    t = time.perf_counter(); m.fit(A_tr, d["y_tr"]); train_s = time.perf_counter() - t
    t = time.perf_counter(); p = m.predict_proba(A_te)[:, 1]; predict_s = time.perf_counter() - t
    C.emit("sklearn_hgb", clock, d["y_te"], p, train_s, predict_s,
           len(d["y_tr"]),
           dict(read_s=d["read_s"], prep_s=prep_s,
                n_features=int(A_tr.shape[1]),
                threads=os.environ.get("OMP_NUM_THREADS", "all"),
                version="scikit-learn " + sklearn.__version__))


if __name__ == "__main__":
    main()
