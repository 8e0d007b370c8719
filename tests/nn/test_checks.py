"""The constructor checks: one size check and one choice check, shared by every module."""

import re

import pytest

import nn
from nn import _checks, init, layers, rnn

CHOICES = "'relu', 'tanh', 'sigmoid', 'linear'"


def test_layers_rnn_and_init_use_the_one_copy_of_each_check():
    assert layers.check_size is rnn.check_size is _checks.check_size
    assert layers.check_choice is rnn.check_choice is init.check_choice is _checks.check_choice


@pytest.mark.parametrize(("make", "message"), [
    (lambda: nn.Neuron(0, "relu"), "Neuron: nin must be a positive int, got 0"),
    (lambda: nn.Layer(2, -1, "relu"), "Layer: nout must be a positive int, got -1"),
    (lambda: nn.Layer(True, 2, "relu"), "Layer: nin must be a positive int, got True"),
    (lambda: nn.MLP(2.0, [3]), "MLP: nin must be a positive int, got 2.0"),
    (lambda: nn.MLP(2, [3, 0]), "MLP: nouts[1] must be a positive int, got 0"),
    (lambda: nn.BatchNorm1d("3"), "BatchNorm1d: num_features must be a positive int, got '3'"),
    (lambda: nn.RNNCell(0, 3), "RNNCell: nin must be a positive int, got 0"),
    (lambda: nn.RNN(2, -1), "RNNCell: nhidden must be a positive int, got -1"),
    (lambda: nn.RNN(2, 1.0), "RNNCell: nhidden must be a positive int, got 1.0"),
])
def test_size_errors_name_the_module_and_argument(make, message):
    with pytest.raises(ValueError, match=f"^{re.escape(message)}$"):
        make()


@pytest.mark.parametrize(("make", "message"), [
    (lambda: nn.Neuron(2, "softmax"), f"activation must be one of {CHOICES}, got 'softmax'"),
    (lambda: nn.Layer(2, 2, "Relu"), f"activation must be one of {CHOICES}, got 'Relu'"),
    (lambda: nn.MLP(2, [1], "gelu"), f"activation must be one of {CHOICES}, got 'gelu'"),
    (lambda: nn.RNN(2, 3, "gelu"), f"RNNCell: activation must be one of {CHOICES}, got 'gelu'"),
    (lambda: nn.RNNCell(2, 3, None), f"RNNCell: activation must be one of {CHOICES}, got None"),
    (lambda: nn.Layer(2, 2, "relu", init="normal"),
     "init must be one of 'uniform', 'xavier', 'he', got 'normal'"),
])
def test_choice_errors_list_the_choices_in_order(make, message):
    with pytest.raises(ValueError, match=f"^{re.escape(message)}$"):
        make()


def test_checks_return_what_they_accept():
    assert _checks.check_size("n", 3) == 3
    assert _checks.check_choice("activation", "tanh", layers.ACTIVATIONS) == "tanh"
