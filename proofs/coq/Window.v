(** The catapult window for an abstract sequence obeying the weight-norm lemma
    (THEORY §4-§5): the norm never grows, the sum of the squared residuals is
    bounded, so the residual tends to 0. First for a shifted increment and a
    norm bound with an offset (which the modified norm of the bias model needs),
    then the plain lemma as the special case. *)

From Coquelicot Require Import Coquelicot.
Require Import Reals Lra Psatz.
From Catapult Require Import Generated.
Open Scope R_scope.

(** The generated lemma at y = 0 (r = f) is  eta f^2 (eta lam - 4). *)
Lemma lemma_increment_at_y0 : forall eta lam f,
  lemma_increment eta lam f f = eta * f ^ 2 * (eta * lam - 4).
Proof. intros; unfold lemma_increment; ring. Qed.

(** One step: 0 < eta, lam <= K w, eta K w < 4 => the norm does not grow. *)
Theorem one_step_decrease : forall eta K lam w f,
  0 < eta -> lam <= K * w -> eta * (K * w) < 4 ->
  w + lemma_increment eta lam f f <= w.
Proof.
  intros eta K lam w f Heta Hl Hw. rewrite lemma_increment_at_y0.
  assert (eta * lam - 4 < 0) by nra.
  assert (0 <= eta * f ^ 2) by (apply Rmult_le_pos; [lra | apply pow2_ge_0]).
  nra.
Qed.

(** A non-negative sequence with bounded partial sums is summable. *)
Lemma summable_of_bounded : forall (g : nat -> R) (M : R),
  (forall t, 0 <= g t) -> (forall m, sum_n g m <= M) -> ex_series g.
Proof.
  intros g M Hg HM.
  assert (Hincr : forall m, sum_n g m <= sum_n g (S m)).
  { intro m. rewrite sum_Sn. unfold plus; simpl. specialize (Hg (S m)). lra. }
  destruct (ex_finite_lim_seq_incr (sum_n g) M Hincr HM) as [l Hl].
  exists l. exact Hl.
Qed.

(** If f^2 -> 0 then f -> 0. *)
Lemma lim_of_square : forall f : nat -> R,
  is_lim_seq (fun t => f t ^ 2) 0 -> is_lim_seq f 0.
Proof.
  intros f H. apply is_lim_seq_spec in H. apply is_lim_seq_spec.
  intro eps. assert (Heps2 : 0 < eps * eps) by (apply Rmult_lt_0_compat; apply cond_pos).
  destruct (H (mkposreal _ Heps2)) as [T HT]. exists T. intros t Ht.
  specialize (HT t Ht). simpl in HT. rewrite Rminus_0_r in HT |- *.
  rewrite Rabs_right in HT by (apply Rle_ge, pow2_ge_0).
  pose proof (cond_pos eps). apply Rnot_le_lt. intro Hle.
  assert (eps * eps <= Rabs (f t) * Rabs (f t)) by (apply Rmult_le_compat; lra).
  rewrite <- Rabs_mult in H1. rewrite Rabs_right in H1 by (apply Rle_ge; nra).
  nra.
Qed.

(** f^2 -> 0 gives the loss f^2 / 2 -> 0. *)
Lemma loss_of_square : forall f : nat -> R,
  is_lim_seq (fun t => f t ^ 2) 0 -> is_lim_seq (fun t => f t ^ 2 / 2) 0.
Proof.
  intros f H. replace (Finite 0) with (Finite (0 * / 2)) by (f_equal; ring).
  apply (is_lim_seq_mult' _ (fun _ => / 2)); [exact H | apply is_lim_seq_const].
Qed.

Section ShiftedWindow.
(** N: the norm (|θ|^2, or the modified norm Q); g >= 0 the squared residual;
    the increment is  eta g (eta (lam + c) - 4)  (at most: an inequality covers
    the many-data lemma) and the NTK bound is  lam + c <= b + K N. *)
Variables (N lam g : nat -> R) (eta K b c : R).
Hypothesis eta_pos : 0 < eta.
Hypothesis K_nonneg : 0 <= K.
Hypothesis g_nonneg : forall t, 0 <= g t.
Hypothesis N_nonneg : forall t, 0 <= N t.
Hypothesis step : forall t, N (S t) <= N t + eta * g t * (eta * (lam t + c) - 4).
Hypothesis bound : forall t, lam t + c <= b + K * N t.
Hypothesis window : eta * (b + K * N 0%nat) < 4.

Lemma shifted_invariant : forall t, N t <= N 0%nat /\ N (S t) <= N t.
Proof.
  assert (Hstep : forall t, N t <= N 0%nat -> N (S t) <= N t).
  { intros t Ht. specialize (step t). specialize (bound t). specialize (g_nonneg t).
    assert (K * N t <= K * N 0%nat) by (apply Rmult_le_compat_l; lra).
    assert (eta * (lam t + c) - 4 < 0) by nra.
    assert (0 <= eta * g t) by (apply Rmult_le_pos; lra).
    nra. }
  induction t as [| t [IH1 IH2]].
  - split; [lra | apply Hstep; lra].
  - assert (N (S t) <= N 0%nat) by lra. split; [lra | apply Hstep; lra].
Qed.

Theorem shifted_norm_non_increasing : forall t, N (S t) <= N t.
Proof. intro t. apply (shifted_invariant t). Qed.

Theorem shifted_below_edge : forall t,
  eta * (lam t + c) <= eta * (b + K * N t) /\ eta * (b + K * N t) <= eta * (b + K * N 0%nat)
  /\ eta * (b + K * N 0%nat) < 4.
Proof.
  intro t. destruct (shifted_invariant t) as [H0 _]. specialize (bound t).
  assert (K * N t <= K * N 0%nat) by (apply Rmult_le_compat_l; lra).
  repeat split; try lra; apply Rmult_le_compat_l; lra.
Qed.

Lemma shifted_drop : forall t,
  eta * (4 - eta * (b + K * N 0%nat)) * g t <= N t - N (S t).
Proof.
  intro t. destruct (shifted_below_edge t) as [H1 [H2 _]].
  specialize (step t). specialize (g_nonneg t).
  assert (0 <= eta * g t) by (apply Rmult_le_pos; lra).
  nra.
Qed.

Theorem shifted_sum_bound : forall m,
  sum_n g m <= N 0%nat / (eta * (4 - eta * (b + K * N 0%nat))).
Proof.
  assert (Hm : 0 < eta * (4 - eta * (b + K * N 0%nat))) by (apply Rmult_lt_0_compat; lra).
  assert (Htel : forall m, eta * (4 - eta * (b + K * N 0%nat)) * sum_n g m <= N 0%nat - N (S m)).
  { induction m as [| m IH].
    - rewrite sum_O. apply shifted_drop.
    - rewrite sum_Sn. unfold plus; simpl. pose proof (shifted_drop (S m)). nra. }
  intro m. specialize (Htel m). specialize (N_nonneg (S m)).
  apply (Rmult_le_reg_l (eta * (4 - eta * (b + K * N 0%nat)))); [exact Hm |].
  field_simplify; [lra | lra].
Qed.

Theorem shifted_summable : ex_series g.
Proof. exact (summable_of_bounded g _ g_nonneg shifted_sum_bound). Qed.

Theorem shifted_to_zero : is_lim_seq g 0.
Proof. apply ex_series_lim_0, shifted_summable. Qed.

End ShiftedWindow.

Section Window.
(** The abstract theorem (one datum, y = 0): w = |θ|^2 obeys the generated
    lemma  w' = w + lemma_increment eta lam f f = w + eta f^2 (eta lam - 4),
    and the NTK bound  0 <= lam <= K w. *)
Variables (w lam f : nat -> R) (eta K : R).
Hypothesis eta_pos : 0 < eta.
Hypothesis K_pos : 0 < K.
Hypothesis step : forall t, w (S t) = w t + lemma_increment eta (lam t) (f t) (f t).
Hypothesis lam_nonneg : forall t, 0 <= lam t.
Hypothesis ntk_bound : forall t, lam t <= K * w t.
Hypothesis window : eta * K * w 0%nat < 4.

Lemma window_w_nonneg : forall t, 0 <= w t.
Proof.
  intro t. specialize (lam_nonneg t). specialize (ntk_bound t).
  apply Rnot_lt_le. intro Hneg. nra.
Qed.

Let step' : forall t, w (S t) <= w t + eta * f t ^ 2 * (eta * (lam t + 0) - 4).
Proof. intro t. rewrite step, lemma_increment_at_y0, Rplus_0_r. lra. Qed.

Let bound' : forall t, lam t + 0 <= 0 + K * w t.
Proof. intro t. specialize (ntk_bound t). lra. Qed.

Let window' : eta * (0 + K * w 0%nat) < 4.
Proof. lra. Qed.

Let sq_nonneg : forall t, 0 <= f t ^ 2.
Proof. intro t. apply pow2_ge_0. Qed.

Ltac shifted := first [assumption | exact (Rlt_le _ _ K_pos) | exact window_w_nonneg].

Theorem window_norm_non_increasing : forall t, w (S t) <= w t.
Proof.
  intro t. apply (shifted_norm_non_increasing w lam (fun t => f t ^ 2) eta K 0 0); shifted.
Qed.

Theorem window_below_edge : forall t,
  eta * lam t <= eta * K * w t /\ eta * K * w t <= eta * K * w 0%nat /\ eta * K * w 0%nat < 4.
Proof.
  intro t.
  destruct (shifted_below_edge w lam (fun t => f t ^ 2) eta K 0 0) with (t := t) as [H1 [H2 H3]]; try shifted.
  repeat split; lra.
Qed.

Theorem window_sum_bound : forall m,
  sum_n (fun t => f t ^ 2) m <= w 0%nat / (eta * (4 - eta * K * w 0%nat)).
Proof.
  intro m. replace (eta * (4 - eta * K * w 0%nat)) with (eta * (4 - eta * (0 + K * w 0%nat))) by ring.
  apply (shifted_sum_bound w lam (fun t => f t ^ 2) eta K 0 0); shifted.
Qed.

Theorem window_summable : ex_series (fun t => f t ^ 2).
Proof. apply (shifted_summable w lam (fun t => f t ^ 2) eta K 0 0); shifted. Qed.

Theorem window_residual_to_zero : is_lim_seq f 0.
Proof. apply lim_of_square, ex_series_lim_0, window_summable. Qed.

Theorem window_loss_to_zero : is_lim_seq (fun t => f t ^ 2 / 2) 0.
Proof. apply loss_of_square, ex_series_lim_0, window_summable. Qed.

End Window.
